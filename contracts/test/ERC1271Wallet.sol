// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title Test double: a wallet contract its owner transacts through
/// @notice Forwards the calls its owner makes, so a subject controlled by the wallet can act by
/// transaction. Test only: never deploy.
abstract contract OwnedTestWallet is IERC1271 {
    /// @notice The key that controls the wallet.
    address public immutable owner;

    /// @notice `account` is not the wallet's owner.
    error NotWalletOwner(address account);

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Calls `target` with `data` as the wallet. Caller: the owner.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert NotWalletOwner(msg.sender);
        return Address.functionCall(target, data);
    }
}

/// @title Test double: a minimal smart-contract wallet (EIP-1271)
/// @notice Accepts a signature over a digest when its owner key made it (65-byte ECDSA).
/// Test only: never deploy.
contract ERC1271Wallet is OwnedTestWallet {
    constructor(address owner_) OwnedTestWallet(owner_) {}

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError error, ) = ECDSA.tryRecover(hash, signature);
        if (error == ECDSA.RecoverError.NoError && signer == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}

/// @title Test double: a smart-contract wallet that refuses every signature (EIP-1271)
/// @notice Its owner can still transact through it, but `isValidSignature` always answers the
/// failure value, whoever signed. Test only: never deploy.
contract RefusingERC1271Wallet is OwnedTestWallet {
    constructor(address owner_) OwnedTestWallet(owner_) {}

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }
}
