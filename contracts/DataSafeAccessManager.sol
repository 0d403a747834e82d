// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessManager} from "@openzeppelin/contracts/access/manager/AccessManager.sol";

/// @title datasafe governance
/// @notice The one place that decides who may do what across the suite: roles (see `Roles` in
/// Common.sol), which role may call each restricted function, and the execution delay of each role
/// member, so dangerous operations are scheduled, visible as events, and can be cancelled before
/// they run. OpenZeppelin's AccessManager as is; this contract only names it for deployments.
contract DataSafeAccessManager is AccessManager {
    /// @param initialAdmin the first holder of the admin role (role 0)
    constructor(address initialAdmin) AccessManager(initialAdmin) {}
}
