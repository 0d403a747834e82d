// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Test contract: checks a disclosed field against an asset's content commitment on chain
/// @notice What a contract that acts on one field of a record (say, "registered in this district")
/// would do with a disclosure the payload gateway released: rebuild the field's leaf and verify its
/// proof with OpenZeppelin's `MerkleProof` against the asset's commitment. Test only: never deploy.
contract FieldProofVerifier {
    /// @notice Whether a field belongs to the record committed to by `root`.
    /// @param proof the field's Merkle proof (sibling hashes, sorted-pair)
    /// @param root the asset's content commitment
    /// @param fieldSalt the field's own salt, disclosed with it
    /// @param name the field's name
    /// @param valueHash keccak256 of the value's canonical JSON
    function verifyField(
        bytes32[] calldata proof,
        bytes32 root,
        bytes32 fieldSalt,
        string calldata name,
        bytes32 valueHash
    ) external pure returns (bool) {
        // Hashed twice, as OpenZeppelin's trees do, so a leaf can never pass for an inner node.
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(fieldSalt, name, valueHash))));
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }
}
