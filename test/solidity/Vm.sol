// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @dev The few cheatcodes the datasafe Solidity tests use, declared here rather than taken from
/// the unofficial forge-std copy on npm. Hardhat 3's EDR serves them at `VM_ADDRESS`.
interface Vm {
    function warp(uint256 newTimestamp) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function assume(bool condition) external pure;
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function label(address account, string calldata newLabel) external;
    function deal(address account, uint256 newBalance) external;
}

/// @dev The last 20 bytes of keccak256("hevm cheat code"), where EDR (like Foundry) serves cheatcodes.
address constant VM_ADDRESS = 0x7109709ECfa91a80626fF3989D68f67F5b1DD12D;
