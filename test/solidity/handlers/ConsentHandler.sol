// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DataSafe} from "../../../contracts/DataSafe.sol";
import {
    AccessCheck,
    AccessRequest,
    AssetKey,
    Authorization,
    GrantKey,
    GrantScope,
    GrantTerms,
    MemberKind,
    NewAsset
} from "../../../contracts/Common.sol";
import {IAccessLog} from "../../../contracts/interfaces/IAccessLog.sol";
import {IConsentManager} from "../../../contracts/interfaces/IConsentManager.sol";

import {TestHelpers} from "../Base.sol";

/// @dev Drives random sequences over a small world (3 subjects, 3 consumers and a department that
/// tries to read, 3 issued types, at most 16 assets and 24 requests) and keeps its own model of
/// every asset, grant, key and member status. Every call is made through try/catch: a refusal is
/// never a failure by itself; what counts is whether the contract's answer matches the model.
/// Ghost counters record each disagreement; the invariant test asserts they stay zero.
contract ConsentHandler is TestHelpers {
    error UnknownSubject(bytes32 subjectId);

    uint256 internal constant SUBJECTS = 3;
    uint256 internal constant MAX_ASSETS = 16;
    uint256 internal constant MAX_REQUESTS = 24;
    /// @dev Type ids a grant or request may name: 1..3 issued, 4 deprecated (its issuer deauthorised),
    /// 5 undefined.
    uint256 internal constant TYPE_IDS = 5;
    uint256 internal constant ISSUED_TYPES = 3;

    DataSafe internal immutable dataSafe;
    address internal immutable regulatorRole;
    address internal immutable operatorRole;
    address internal immutable identityAuthority;
    address internal immutable nonConsumer;

    address[3] internal consumers;
    address[4] internal issuerOfType; // index = type id, 1..3

    struct SubjectModel {
        bytes32 id;
        uint256 key; // private key of the controller
        address controller;
        uint48 nonce; // the signature epoch
        uint256 pendingKey; // private key of a pending recovery's new controller, 0 if none
        uint40 executableAt;
    }

    struct AssetModel {
        AssetKey key;
        bytes32 id;
        uint256 subject; // index into `subjects`
        uint40 validUntil;
        bool current; // neither revoked nor superseded
    }

    struct GrantModel {
        GrantKey key;
        bool active;
        uint40 expiresAt;
        uint32 maxReads;
        uint32 reads;
        uint32 version;
    }

    SubjectModel[3] internal subjects;
    mapping(uint256 subject => uint256[] keys) internal retiredKeys;
    uint256 internal nextKey = 0x5EED_0000;

    AssetModel[] internal assets;
    uint256 internal assetSalt;

    bytes32[] internal grantIds;
    mapping(bytes32 grantId => GrantModel grant) internal grants;

    AccessRequest[] internal requests;
    mapping(bytes32 requestId => bool closed) internal requestClosed;

    mapping(address consumer => bool suspended) public suspended;
    /// @dev Whether the regulator has suspended the identity authority (which stops its recoveries).
    bool public authoritySuspended;

    bool internal haveSignedGrant;
    GrantTerms internal lastSignedTerms;
    Authorization internal lastSignedAuth;

    /// @dev A grant signed by a controller and held back, to be relayed later in any order.
    struct PendingSignature {
        uint256 subject;
        GrantTerms terms;
        Authorization auth;
        uint48 epoch; // the subject's epoch when signed
        uint256 key; // the private key that signed
        bool relayed;
    }

    uint256 internal constant MAX_PENDING = 24;
    PendingSignature[] internal pending;
    /// @dev The next index a fresh signature of a subject uses (skipping used ones).
    mapping(uint256 subject => uint256 index) internal nextIndex;
    /// @dev Nonces the model holds used or cancelled, and whole words cancelled.
    mapping(bytes32 subjectId => mapping(uint256 nonce => bool used)) internal nonceUsed;
    mapping(bytes32 subjectId => mapping(uint256 wordPos => bool cancelled)) internal wordCancelled;

    /// @dev The time the sequence has reached: re-applied at each call so a `warp` persists whatever
    /// the runner does with the block environment between calls.
    uint256 public currentTime;

    // ---------------------------------------------------------------- ghost state

    /// @dev A read the contract accepted that the model refuses, or refused that the model allows.
    uint256 public ghostReadViolations;
    /// @dev A refused read whose `AccessDenied` reason or grant id differs from the model's.
    uint256 public ghostReasonMismatches;
    /// @dev Successful `recordAccess` calls (each emitted one `AccessRecorded`).
    uint256 public ghostReads;
    /// @dev Reads of grant versions replaced by a renewal, taken from the contract just before.
    uint256 public ghostRetiredReads;
    /// @dev Replaced grant versions that had more reads than their maximum.
    uint256 public ghostRetiredOverMax;
    /// @dev Acts for a subject that succeeded with a rotated-away or recovered-away key.
    uint256 public ghostOldKeySuccesses;
    uint256 public ghostOldKeyAttempts;
    /// @dev A used signature that worked a second time.
    uint256 public ghostReplaySuccesses;
    /// @dev A signature from an earlier epoch (before a hand-over, recovery or invalidation) that worked.
    uint256 public ghostStaleSignatureSuccesses;
    /// @dev A held-back signature whose relay or cancellation had another outcome than the model's.
    uint256 public ghostSignatureMismatches;
    uint256 public callsPendingRelayed;
    uint256 public callsPendingRefused;
    /// @dev Reads recorded while the contract itself had the consumer as not active.
    uint256 public ghostSuspendedReads;
    /// @dev Holder, issuer or governance acts whose outcome differs from the model's prediction.
    uint256 public ghostOutcomeMismatches;
    /// @dev The contract's grant, nonce or access id differs from the model right after a change.
    uint256 public ghostModelDrift;

    uint256 public callsGranted; // grants issued or renewed
    uint256 public callsRevokedGrants;
    uint256 public callsRotations; // transfers and completed recoveries
    uint256 public callsRecoveries; // completed recoveries
    uint256 public callsApprovals;
    uint256 public callsRefusedReads;

    constructor(
        DataSafe dataSafe_,
        address regulatorRole_,
        address operatorRole_,
        address identityAuthority_,
        address[3] memory consumers_,
        address nonConsumer_,
        address[4] memory issuerOfType_,
        bytes32[3] memory subjectIds,
        uint256[3] memory controllerKeys
    ) {
        dataSafe = dataSafe_;
        regulatorRole = regulatorRole_;
        operatorRole = operatorRole_;
        identityAuthority = identityAuthority_;
        consumers = consumers_;
        nonConsumer = nonConsumer_;
        issuerOfType = issuerOfType_;
        for (uint256 i; i < SUBJECTS; ++i) {
            subjects[i] = SubjectModel(subjectIds[i], controllerKeys[i], vm.addr(controllerKeys[i]), 0, 0, 0);
        }
        currentTime = block.timestamp;
    }

    /// @dev Starts every sequence from a populated world, so short sequences reach real states:
    /// per subject, a household register (no expiry) and a housing-fund record (valid 2 days), an
    /// asset grant to the first consumer, a type grant to the second and an open request from the
    /// third. Not a fuzz target.
    function populate() external {
        for (uint256 s; s < SUBJECTS; ++s) {
            _issueModelled(issuerOfType[1], s, 1, 0);
            _issueModelled(issuerOfType[3], s, 3, uint40(currentTime + 2 days));
            bytes32 register = assets[assets.length - 2].id;
            _grantModelled(
                s,
                GrantTerms(
                    subjects[s].id,
                    _oneConsumer(consumers[0]),
                    GrantScope.Asset,
                    _oneTarget(register),
                    0,
                    1,
                    uint40(currentTime + 3 days),
                    3
                ),
                false
            );
            _grantModelled(
                s,
                GrantTerms(
                    subjects[s].id,
                    _oneConsumer(consumers[1]),
                    GrantScope.DataType,
                    _oneTarget(_typeTarget(issuerOfType[3], 3)),
                    0,
                    2,
                    uint40(currentTime + 4 days),
                    2
                ),
                true
            );
            vm.prank(consumers[2]);
            (, AccessRequest memory request) = dataSafe.requestAccess(
                subjects[s].id,
                GrantScope.DataType,
                _oneTarget(_typeTarget(issuerOfType[1], 1)),
                0,
                1,
                2 days,
                2,
                uint40(currentTime + 1 days)
            );
            requests.push(request);
        }
    }

    modifier atCurrentTime() {
        vm.warp(currentTime);
        _;
    }

    // ================================================================ assets

    function issueAsset(uint256 typeSeed, uint256 subjectSeed, uint256 validitySeed) external atCurrentTime {
        if (assets.length >= MAX_ASSETS) return;
        uint32 dataType = uint32(1 + (typeSeed % 3));
        uint256 s = subjectSeed % SUBJECTS;
        uint40 validUntil = validitySeed % 3 == 0 ? 0 : uint40(currentTime + _bound(validitySeed, 1 hours, 10 days));
        _issueModelled(issuerOfType[dataType], s, dataType, validUntil);
    }

    function _issueModelled(address issuer, uint256 s, uint32 dataType, uint40 validUntil) internal {
        bytes32 commitment = keccak256(abi.encode("commitment", ++assetSalt));
        NewAsset memory asset = NewAsset(subjects[s].id, dataType, commitment, keccak256("payload"), validUntil);
        AssetKey memory key = AssetKey(issuer, subjects[s].id, dataType, commitment);
        vm.prank(issuer);
        try dataSafe.issueAsset(asset) returns (bytes32 assetId) {
            if (assetId != _assetId(key)) ghostModelDrift++;
            assets.push(AssetModel(key, assetId, s, validUntil, true));
        } catch {
            ghostOutcomeMismatches++; // an authorised, active department issuing a well-formed asset
        }
    }

    function revokeAsset(uint256 assetSeed, bool byGovernance) external atCurrentTime {
        if (assets.length == 0) return;
        AssetModel storage asset = assets[assetSeed % assets.length];
        bool expected = asset.current;
        bool ok;
        if (byGovernance) {
            vm.prank(operatorRole);
            try dataSafe.revokeAssetByGovernance(asset.id, 5) {
                ok = true;
            } catch {}
        } else {
            vm.prank(asset.key.issuer);
            try dataSafe.revokeAsset(asset.key, 6) {
                ok = true;
            } catch {}
        }
        if (ok != expected) ghostOutcomeMismatches++;
        if (ok) asset.current = false;
    }

    function supersedeAsset(uint256 assetSeed, uint256 validitySeed) external atCurrentTime {
        if (assets.length == 0 || assets.length >= MAX_ASSETS) return;
        uint256 index = assetSeed % assets.length;
        AssetModel memory previous = assets[index];
        bytes32 commitment = keccak256(abi.encode("commitment", ++assetSalt));
        uint40 validUntil = validitySeed % 2 == 0 ? 0 : uint40(currentTime + _bound(validitySeed, 1 hours, 10 days));
        NewAsset memory next = NewAsset(previous.key.subjectId, previous.key.dataType, commitment, 0, validUntil);
        // Only a current, unexpired asset can be superseded.
        bool expected = _assetValid(previous);
        vm.prank(previous.key.issuer);
        try dataSafe.supersedeAsset(previous.key, next) returns (bytes32 newId) {
            if (!expected) ghostOutcomeMismatches++;
            assets[index].current = false;
            AssetKey memory key = AssetKey(
                previous.key.issuer,
                previous.key.subjectId,
                previous.key.dataType,
                commitment
            );
            if (newId != _assetId(key)) ghostModelDrift++;
            assets.push(AssetModel(key, newId, previous.subject, validUntil, true));
        } catch {
            if (expected) ghostOutcomeMismatches++;
        }
    }

    // ================================================================ consent

    function requestAccess(
        uint256 consumerSeed,
        uint256 subjectSeed,
        uint256 targetSeed,
        uint256 termsSeed
    ) external atCurrentTime {
        if (requests.length >= MAX_REQUESTS) return;
        address consumer = consumerSeed % 5 == 4 ? nonConsumer : consumers[consumerSeed % 3];
        uint256 s = subjectSeed % SUBJECTS;
        (GrantScope scope, bytes32[] memory targets) = _targets(s, targetSeed);
        uint16 purpose = uint16(1 + (termsSeed % 2));
        uint40 duration = uint40(_bound(termsSeed >> 8, 1 hours, 4 days));
        uint32 maxReads = uint32(1 + ((termsSeed >> 64) % 3));
        uint40 expiresAt = uint40(currentTime + _bound(termsSeed >> 128, 1 hours, 3 days));
        bool expected = _isActiveConsumer(consumer);
        vm.prank(consumer);
        try dataSafe.requestAccess(subjects[s].id, scope, targets, 0, purpose, duration, maxReads, expiresAt) returns (
            bytes32 requestId,
            AccessRequest memory request
        ) {
            if (!expected) ghostOutcomeMismatches++;
            if (requestId != _requestId(request)) ghostModelDrift++;
            requests.push(request);
        } catch {
            if (expected) ghostOutcomeMismatches++;
        }
    }

    function approveRequest(uint256 requestSeed, bool bySig) external atCurrentTime {
        if (requests.length == 0) return;
        AccessRequest memory request = requests[requestSeed % requests.length];
        bytes32 requestId = _requestId(request);
        uint256 s = _subjectIndex(request.subjectId);
        bool expected =
            !requestClosed[requestId] &&
                currentTime <= request.expiresAt &&
                _isActiveConsumer(request.consumer) &&
                _targetsValid(s, request.scope, request.targets);
        GrantKey[] memory keys = new GrantKey[](request.targets.length);
        for (uint256 t; t < keys.length; ++t) {
            keys[t] = GrantKey(request.subjectId, request.consumer, request.scope, request.targets[t], request.purpose);
        }
        IConsentManager.Grant[] memory before = _snapshot(keys);

        bool ok = _submitApproval(s, request, bySig);
        if (ok != expected) ghostOutcomeMismatches++;
        if (!ok) return;
        requestClosed[requestId] = true;
        callsApprovals++;
        uint40 expiresAt = uint40(currentTime) + request.grantDuration;
        for (uint256 t; t < keys.length; ++t) {
            _renewed(keys[t], before[t], expiresAt, request.maxReads);
        }
    }

    function _submitApproval(uint256 s, AccessRequest memory request, bool bySig) internal returns (bool ok) {
        if (bySig) {
            uint256 nonce = _freshNonce(s);
            Authorization memory auth = _authorise(
                s,
                nonce,
                _approveDigest(dataSafe, request, nonce, currentTime + 1 hours)
            );
            try dataSafe.approveRequestBySig(request, auth) {
                nonceUsed[subjects[s].id][nonce] = true;
                return true;
            } catch {}
        } else {
            vm.prank(subjects[s].controller);
            try dataSafe.approveRequest(request) {
                return true;
            } catch {}
        }
    }

    /// @dev The current controller's authorisation with `nonce`, valid for an hour.
    function _authorise(uint256 s, uint256 nonce, bytes32 digest) internal view returns (Authorization memory) {
        return Authorization(nonce, currentTime + 1 hours, _sign(subjects[s].key, digest));
    }

    /// @dev A nonce of the subject's current epoch that the model holds unused, not handed out before.
    function _freshNonce(uint256 s) internal returns (uint256 nonce) {
        bytes32 id = subjects[s].id;
        do {
            nonce = _nonce(subjects[s].nonce, nextIndex[s]++);
        } while (nonceUsed[id][nonce] || wordCancelled[id][nonce >> 8]);
    }

    /// @dev The contract's grants for `keys` now, to compare with the model after a renewal.
    function _snapshot(GrantKey[] memory keys) internal view returns (IConsentManager.Grant[] memory before) {
        before = new IConsentManager.Grant[](keys.length);
        for (uint256 i; i < keys.length; ++i) {
            before[i] = dataSafe.getGrant(_grantId(keys[i]));
        }
    }

    function rejectRequest(uint256 requestSeed) external atCurrentTime {
        if (requests.length == 0) return;
        AccessRequest memory request = requests[requestSeed % requests.length];
        bytes32 requestId = _requestId(request);
        bool expected = !requestClosed[requestId];
        vm.prank(subjects[_subjectIndex(request.subjectId)].controller);
        try dataSafe.rejectRequest(request, 1) {
            if (!expected) ghostOutcomeMismatches++;
            requestClosed[requestId] = true;
        } catch {
            if (expected) ghostOutcomeMismatches++;
        }
    }

    function grantDirect(
        uint256 subjectSeed,
        uint256 consumerSeed,
        uint256 targetSeed,
        uint256 termsSeed,
        bool bySig
    ) external atCurrentTime {
        uint256 s = subjectSeed % SUBJECTS;
        GrantTerms memory terms;
        terms.subjectId = subjects[s].id;
        terms.consumers = _consumers(consumerSeed);
        (terms.scope, terms.targets) = _targets(s, targetSeed);
        terms.purpose = uint16(1 + (termsSeed % 2));
        terms.expiresAt = uint40(currentTime + _bound(termsSeed >> 8, 1 minutes, 5 days));
        terms.maxReads = uint32(1 + ((termsSeed >> 64) % 3));
        _grantModelled(s, terms, bySig);
    }

    function _grantModelled(uint256 s, GrantTerms memory terms, bool bySig) internal {
        bool expected = _targetsValid(s, terms.scope, terms.targets);
        for (uint256 c; c < terms.consumers.length; ++c) {
            expected = expected && _isActiveConsumer(terms.consumers[c]);
        }
        GrantKey[] memory keys = new GrantKey[](terms.consumers.length * terms.targets.length);
        for (uint256 i; i < keys.length; ++i) {
            // consumer-major, target order: the order the contract issues them in
            uint256 c = i / terms.targets.length;
            uint256 t = i % terms.targets.length;
            keys[i] = GrantKey(terms.subjectId, terms.consumers[c], terms.scope, terms.targets[t], terms.purpose);
        }
        IConsentManager.Grant[] memory before = _snapshot(keys);

        bool ok = _submitGrant(s, terms, bySig);
        if (ok != expected) ghostOutcomeMismatches++;
        if (!ok) return;
        for (uint256 i; i < keys.length; ++i) {
            _renewed(keys[i], before[i], terms.expiresAt, terms.maxReads);
        }
    }

    function _submitGrant(uint256 s, GrantTerms memory terms, bool bySig) internal returns (bool ok) {
        if (bySig) {
            uint256 nonce = _freshNonce(s);
            Authorization memory auth = _authorise(
                s,
                nonce,
                _grantDigest(dataSafe, terms, nonce, currentTime + 1 hours)
            );
            try dataSafe.grantBySig(terms, auth) {
                nonceUsed[subjects[s].id][nonce] = true;
                haveSignedGrant = true;
                lastSignedTerms = terms;
                lastSignedAuth = auth;
                return true;
            } catch {}
        } else {
            vm.prank(subjects[s].controller);
            try dataSafe.grant(terms) {
                return true;
            } catch {}
        }
    }

    function revokeGrant(uint256 grantSeed, bool bySig) external atCurrentTime {
        if (grantIds.length == 0) return;
        GrantModel storage grant = grants[grantIds[grantSeed % grantIds.length]];
        bool ok = _submitRevocation(_subjectIndex(grant.key.subjectId), grant.key, grant.version, bySig);
        if (ok != grant.active) ghostOutcomeMismatches++;
        if (ok) {
            grant.active = false;
            callsRevokedGrants++;
        }
    }

    function _submitRevocation(uint256 s, GrantKey memory key, uint32 version, bool bySig) internal returns (bool) {
        if (bySig) {
            uint256 nonce = _freshNonce(s);
            Authorization memory auth = _authorise(
                s,
                nonce,
                _revokeDigest(dataSafe, key, version, nonce, currentTime + 1 hours)
            );
            try dataSafe.revokeBySig(key, version, auth) {
                nonceUsed[subjects[s].id][nonce] = true;
                return true;
            } catch {}
        } else {
            vm.prank(subjects[s].controller);
            try dataSafe.revoke(key) {
                return true;
            } catch {}
        }
        return false;
    }

    /// @dev Replays the last successful `grantBySig` as it was submitted.
    function replaySignature() external atCurrentTime {
        if (!haveSignedGrant) return;
        GrantTerms memory terms = lastSignedTerms;
        Authorization memory auth = lastSignedAuth;
        try dataSafe.grantBySig(terms, auth) {
            ghostReplaySuccesses++;
        } catch {}
    }

    // ================================================================ held-back signatures

    /// @dev The current controller signs a data-type grant and holds it back. Its nonce is a fresh
    /// one, or (one time in three) a small index that may already be used, or (one time in six) a
    /// far index in another word.
    function signPending(uint256 subjectSeed, uint256 termsSeed, uint256 indexSeed) external atCurrentTime {
        if (pending.length >= MAX_PENDING) return;
        uint256 s = subjectSeed % SUBJECTS;
        SubjectModel storage subject = subjects[s];
        uint256 nonce;
        uint256 pick = indexSeed % 6;
        if (pick < 3) nonce = _freshNonce(s);
        else if (pick < 5) nonce = _nonce(subject.nonce, (indexSeed >> 8) % 12);
        else nonce = _nonce(subject.nonce, ((indexSeed >> 8) % 3) << 100);
        GrantTerms memory terms = GrantTerms(
            subject.id,
            _oneConsumer(consumers[termsSeed % 3]),
            GrantScope.DataType,
            _oneTarget(_typeTarget(issuerOfType[1 + ((termsSeed >> 8) % 3)], uint32(1 + ((termsSeed >> 8) % 3)))),
            0,
            uint16(1 + ((termsSeed >> 16) % 2)),
            uint40(currentTime + 5 days),
            2
        );
        uint256 deadline = currentTime + _bound(termsSeed >> 32, 1 hours, 4 days);
        bytes memory signature = _sign(subject.key, _grantDigest(dataSafe, terms, nonce, deadline));
        pending.push(
            PendingSignature(s, terms, Authorization(nonce, deadline, signature), subject.nonce, subject.key, false)
        );
    }

    /// @dev Relays a held-back signature, in whatever order the fuzzer picks. It must work exactly
    /// when it is of the current epoch, signed by the current controller, before its deadline, with
    /// a nonce neither used nor cancelled, for terms that are valid now.
    function relayPending(uint256 pendingSeed) external atCurrentTime {
        if (pending.length == 0) return;
        PendingSignature storage p = pending[pendingSeed % pending.length];
        SubjectModel storage subject = subjects[p.subject];
        GrantTerms memory terms = p.terms;
        uint256 nonce = p.auth.nonce;
        bool expected =
            p.epoch == subject.nonce &&
                p.key == subject.key &&
                currentTime <= p.auth.deadline &&
                !nonceUsed[subject.id][nonce] &&
                !wordCancelled[subject.id][nonce >> 8] &&
                _isActiveConsumer(terms.consumers[0]);
        GrantKey[] memory keys = new GrantKey[](1);
        keys[0] = GrantKey(subject.id, terms.consumers[0], terms.scope, terms.targets[0], terms.purpose);
        IConsentManager.Grant[] memory before = _snapshot(keys);
        try dataSafe.grantBySig(terms, p.auth) {
            if (p.relayed) ghostReplaySuccesses++;
            if (p.epoch != subject.nonce) ghostStaleSignatureSuccesses++;
            if (!expected) ghostSignatureMismatches++;
            p.relayed = true;
            nonceUsed[subject.id][nonce] = true;
            _renewed(keys[0], before[0], terms.expiresAt, terms.maxReads);
            callsPendingRelayed++;
        } catch {
            if (expected) ghostSignatureMismatches++;
            callsPendingRefused++;
        }
    }

    /// @dev The current controller cancels a held-back signature's nonce, or its whole word.
    function cancelPending(uint256 pendingSeed, bool wholeWord) external atCurrentTime {
        if (pending.length == 0) return;
        PendingSignature storage p = pending[pendingSeed % pending.length];
        SubjectModel storage subject = subjects[p.subject];
        uint256 nonce = p.auth.nonce;
        uint256 mask = wholeWord ? type(uint256).max : 1 << (nonce & 0xff);
        vm.prank(subject.controller);
        try dataSafe.cancelNonces(subject.id, nonce >> 8, mask) {
            if (wholeWord) wordCancelled[subject.id][nonce >> 8] = true;
            else nonceUsed[subject.id][nonce] = true;
        } catch {
            ghostSignatureMismatches++; // the controller may always cancel
        }
    }

    /// @dev The contract's view of a held-back signature's nonce against the model's: used or
    /// cancelled, or of another epoch than the current one.
    function pendingNonceMatches(uint256 index) external view returns (bool) {
        PendingSignature storage p = pending[index];
        SubjectModel storage subject = subjects[p.subject];
        uint256 nonce = p.auth.nonce;
        bool modelUsed =
            nonce >> 208 != subject.nonce || nonceUsed[subject.id][nonce] || wordCancelled[subject.id][nonce >> 8];
        return dataSafe.isNonceUsed(subject.id, nonce) == modelUsed;
    }

    function pendingCount() external view returns (uint256) {
        return pending.length;
    }

    // ================================================================ reads

    /// @dev One to three reads shaped after a grant the model knows (its consumer, subject, scope,
    /// purpose and an asset it names), sometimes with one field changed, so most reads meet real
    /// grants and allowances run out.
    function readUnderGrant(uint256 grantSeed, uint256 assetSeed, uint256 tweak) external atCurrentTime {
        if (grantIds.length == 0) return;
        GrantKey memory key = grants[grantIds[grantSeed % grantIds.length]].key;
        uint256 s = _subjectIndex(key.subjectId);
        address reader = key.consumer;
        uint256 change = tweak % 8;
        if (change == 0) reader = consumers[(tweak >> 8) % 3];
        if (change == 1) key.purpose = key.purpose == 1 ? 2 : 1;
        // another subject's asset of the same kind
        if (change == 2) s = (tweak >> 8) % SUBJECTS;
        AssetKey memory asset = _coveredAsset(s, key, assetSeed);
        uint256 times = 1 + ((tweak >> 16) % 4);
        for (uint256 i; i < times; ++i) {
            _read(reader, asset, key.scope, key.purpose);
        }
    }

    /// @dev One to three reads under a grant the model holds usable (active, unexpired, reads left,
    /// consumer active), of an asset it covers: the path that must succeed until the allowance,
    /// the asset or the grant runs out.
    function readUnderLiveGrant(uint256 grantSeed, uint256 assetSeed, uint256 times) external atCurrentTime {
        uint256 count = grantIds.length;
        for (uint256 i; i < count; ++i) {
            GrantModel storage grant = grants[grantIds[(grantSeed + i) % count]];
            if (
                !grant.active ||
                currentTime > grant.expiresAt ||
                grant.reads >= grant.maxReads ||
                !_isActiveConsumer(grant.key.consumer)
            ) continue;
            GrantKey memory key = grant.key;
            AssetKey memory asset = _coveredAsset(_subjectIndex(key.subjectId), key, assetSeed);
            for (uint256 n = 1 + (times % 3); n > 0; --n) {
                _read(key.consumer, asset, key.scope, key.purpose);
            }
            return;
        }
    }

    /// @dev A read with every field drawn at random from the small world.
    function readAnything(
        uint256 readerSeed,
        uint256 subjectSeed,
        uint256 assetSeed,
        uint256 shape
    ) external atCurrentTime {
        address reader = readerSeed % 4 == 3 ? nonConsumer : consumers[readerSeed % 3];
        AssetKey memory asset =
            (assets.length == 0 || assetSeed % 10 == 9)
                ? _unknownAsset(subjectSeed % SUBJECTS, uint32(1 + (shape % 3)), assetSeed)
                : assets[assetSeed % assets.length].key;
        _read(reader, asset, shape % 2 == 0 ? GrantScope.Asset : GrantScope.DataType, uint16(1 + ((shape >> 1) % 2)));
    }

    function _read(address reader, AssetKey memory key, GrantScope scope, uint16 purpose) internal {
        bytes32 assetId = _assetId(key);
        (bool known, AssetModel memory asset) = _findAsset(assetId);
        bytes32 target = scope == GrantScope.Asset ? assetId : _typeTarget(key.issuer, key.dataType);
        bytes32 grantId = _grantId(GrantKey(key.subjectId, reader, scope, target, purpose));
        GrantModel storage grant = grants[grantId];
        AccessCheck expected = _expectedCheck(reader, known, asset, grant);
        // ground truth for "a suspended consumer never reads", independent of the model
        bool activeNow = dataSafe.isActiveMember(reader, MemberKind.Consumer);

        vm.prank(reader);
        try dataSafe.recordAccess(key, scope, purpose, 0) returns (bytes32 accessId) {
            ghostReads++;
            if (!activeNow) ghostSuspendedReads++;
            if (expected != AccessCheck.Allowed) {
                ghostReadViolations++;
                return;
            }
            grant.reads++;
            if (accessId != keccak256(abi.encode(grantId, grant.version, grant.reads))) ghostModelDrift++;
        } catch (bytes memory reason) {
            callsRefusedReads++;
            if (expected == AccessCheck.Allowed) {
                ghostReadViolations++;
            } else if (
                keccak256(reason) !=
                keccak256(abi.encodeWithSelector(IAccessLog.AccessDenied.selector, grantId, assetId, expected))
            ) {
                ghostReasonMismatches++;
            }
        }
    }

    /// @dev What the model says a read must give, in the order the access log documents: consumer,
    /// asset, then the grant's status, expiry and allowance. (Issuers here are never suspended, and
    /// an asset's key names its holder, so a read always meets that holder's grants.)
    function _expectedCheck(
        address reader,
        bool knownAsset,
        AssetModel memory asset,
        GrantModel storage grant
    ) internal view returns (AccessCheck) {
        if (!_isActiveConsumer(reader)) return AccessCheck.ConsumerNotActive;
        if (!knownAsset || !_assetValid(asset)) return AccessCheck.AssetNotValid;
        if (grant.version == 0) return AccessCheck.NoGrant;
        if (!grant.active) return AccessCheck.GrantRevoked;
        if (currentTime > grant.expiresAt) return AccessCheck.GrantExpired;
        if (grant.reads >= grant.maxReads) return AccessCheck.GrantExhausted;
        return AccessCheck.Allowed;
    }

    // ================================================================ keys

    function rotateKey(uint256 subjectSeed) external atCurrentTime {
        uint256 s = subjectSeed % SUBJECTS;
        uint256 newKey = nextKey++;
        vm.prank(subjects[s].controller);
        try dataSafe.transferControl(subjects[s].id, vm.addr(newKey)) {
            _retireKey(s, newKey);
            // a hand-over ends any pending recovery
            subjects[s].pendingKey = 0;
            subjects[s].executableAt = 0;
            subjects[s].nonce++; // a hand-over invalidates the previous key's outstanding signatures
        } catch {
            ghostOutcomeMismatches++;
        }
    }

    function invalidateNonce(uint256 subjectSeed) external atCurrentTime {
        uint256 s = subjectSeed % SUBJECTS;
        vm.prank(subjects[s].controller);
        try dataSafe.invalidateNonce(subjects[s].id) {
            subjects[s].nonce++;
        } catch {
            ghostOutcomeMismatches++;
        }
    }

    function initiateRecovery(uint256 subjectSeed) external atCurrentTime {
        uint256 s = subjectSeed % SUBJECTS;
        uint256 newKey = nextKey++;
        vm.prank(identityAuthority);
        try dataSafe.initiateRecovery(subjects[s].id, vm.addr(newKey)) {
            if (authoritySuspended) ghostOutcomeMismatches++;
            subjects[s].pendingKey = newKey;
            subjects[s].executableAt = uint40(currentTime) + dataSafe.recoveryDelay();
        } catch {
            if (!authoritySuspended) ghostOutcomeMismatches++;
        }
    }

    /// @dev Completes a pending recovery (anyone may), after warping past its delay when `waitForDelay`.
    function completeRecovery(uint256 subjectSeed, bool waitForDelay) external atCurrentTime {
        uint256 s = subjectSeed % SUBJECTS;
        SubjectModel storage subject = subjects[s];
        if (waitForDelay && subject.pendingKey != 0 && currentTime < subject.executableAt) {
            currentTime = subject.executableAt;
            vm.warp(currentTime);
        }
        // a recovery completes only while the authority that started it is active
        bool expected = subject.pendingKey != 0 && currentTime >= subject.executableAt && !authoritySuspended;
        vm.prank(address(uint160(uint256(keccak256(abi.encode("anyone", subjectSeed))))));
        try dataSafe.completeRecovery(subject.id) {
            if (!expected) {
                ghostOutcomeMismatches++;
                return;
            }
            uint256 newKey = subject.pendingKey;
            subject.pendingKey = 0;
            subject.executableAt = 0;
            subject.nonce++;
            _retireKey(s, newKey);
            callsRecoveries++;
        } catch {
            if (expected) ghostOutcomeMismatches++;
        }
    }

    function cancelRecovery(uint256 subjectSeed) external atCurrentTime {
        uint256 s = subjectSeed % SUBJECTS;
        SubjectModel storage subject = subjects[s];
        bool expected = subject.pendingKey != 0;
        vm.prank(subject.controller);
        try dataSafe.cancelRecovery(subject.id) {
            if (!expected) ghostOutcomeMismatches++;
            subject.pendingKey = 0;
            subject.executableAt = 0;
        } catch {
            if (expected) ghostOutcomeMismatches++;
        }
    }

    function _retireKey(uint256 s, uint256 newKey) internal {
        retiredKeys[s].push(subjects[s].key);
        subjects[s].key = newKey;
        subjects[s].controller = vm.addr(newKey);
        callsRotations++;
    }

    /// @dev A rotated-away or recovered-away key tries to act for its former subject, by transaction
    /// or by signature at the subject's current nonce. Any success is counted.
    function actWithOldKey(uint256 subjectSeed, uint256 keySeed, uint256 action) external atCurrentTime {
        uint256 s = subjectSeed % SUBJECTS;
        uint256[] storage keys = retiredKeys[s];
        if (keys.length == 0) return;
        uint256 oldKey = keys[keySeed % keys.length];
        address old = vm.addr(oldKey);
        if (old == subjects[s].controller) return; // cannot happen: keys are never reused
        ghostOldKeyAttempts++;
        if (_tryAsOldKey(s, oldKey, old, action % 11)) ghostOldKeySuccesses++;
    }

    function _tryAsOldKey(uint256 s, uint256 oldKey, address old, uint256 action) internal returns (bool ok) {
        bytes32 subjectId = subjects[s].id;
        GrantTerms memory terms = GrantTerms(
            subjectId,
            _oneConsumer(consumers[action % 3]),
            GrantScope.DataType,
            _oneTarget(_typeTarget(issuerOfType[1], 1)),
            0,
            1,
            uint40(currentTime + 1 days),
            5
        );
        AccessRequest memory request = _requestOf(s);
        GrantKey memory key = _grantKeyOf(s);
        if (action >= 8) return _tryOldSignature(s, oldKey, action, terms, request, key);

        bytes memory data;
        if (action == 0) data = abi.encodeCall(dataSafe.transferControl, (subjectId, old));
        else if (action == 1) data = abi.encodeCall(dataSafe.invalidateNonce, (subjectId));
        else if (action == 2) data = abi.encodeCall(dataSafe.grant, (terms));
        else if (action == 3) data = abi.encodeCall(dataSafe.revoke, (key));
        else if (action == 4) data = abi.encodeCall(dataSafe.approveRequest, (request));
        else if (action == 5) data = abi.encodeCall(dataSafe.rejectRequest, (request, 2));
        else if (action == 6) data = abi.encodeCall(dataSafe.requestReturn, (subjectId, 1, issuerOfType[1]));
        else data = abi.encodeCall(dataSafe.cancelRecovery, (subjectId));
        vm.prank(old);
        (ok, ) = address(dataSafe).call(data);
    }

    /// @dev The old key signs a grant, an approval or a revocation with an unused nonce of the
    /// subject's current epoch.
    function _tryOldSignature(
        uint256 s,
        uint256 oldKey,
        uint256 action,
        GrantTerms memory terms,
        AccessRequest memory request,
        GrantKey memory key
    ) internal returns (bool ok) {
        // a nonce the current controller has not used: only the signer is wrong
        uint256 nonce = _nonce(subjects[s].nonce, nextIndex[s]);
        uint256 deadline = currentTime + 1 hours;
        bytes memory data;
        if (action == 8) {
            bytes memory signature = _sign(oldKey, _grantDigest(dataSafe, terms, nonce, deadline));
            data = abi.encodeCall(dataSafe.grantBySig, (terms, Authorization(nonce, deadline, signature)));
        } else if (action == 9) {
            bytes memory signature = _sign(oldKey, _approveDigest(dataSafe, request, nonce, deadline));
            data = abi.encodeCall(dataSafe.approveRequestBySig, (request, Authorization(nonce, deadline, signature)));
        } else {
            bytes memory signature = _sign(oldKey, _revokeDigest(dataSafe, key, 0, nonce, deadline));
            data = abi.encodeCall(dataSafe.revokeBySig, (key, 0, Authorization(nonce, deadline, signature)));
        }
        (ok, ) = address(dataSafe).call(data);
    }

    // ================================================================ members and time

    function suspendConsumer(uint256 consumerSeed) external atCurrentTime {
        address consumer = consumers[consumerSeed % 3];
        vm.prank(regulatorRole);
        try dataSafe.suspendMember(consumer, 9) {
            if (suspended[consumer]) ghostOutcomeMismatches++;
            suspended[consumer] = true;
        } catch {
            if (!suspended[consumer]) ghostOutcomeMismatches++;
        }
    }

    function reinstateConsumer(uint256 consumerSeed) external atCurrentTime {
        address consumer = consumers[consumerSeed % 3];
        vm.prank(regulatorRole);
        try dataSafe.reinstateMember(consumer) {
            if (!suspended[consumer]) ghostOutcomeMismatches++;
            suspended[consumer] = false;
        } catch {
            if (suspended[consumer]) ghostOutcomeMismatches++;
        }
    }

    /// @dev The regulator suspends the identity authority, or reinstates it.
    function toggleAuthority() external atCurrentTime {
        vm.prank(regulatorRole);
        if (authoritySuspended) {
            try dataSafe.reinstateMember(identityAuthority) {
                authoritySuspended = false;
            } catch {
                ghostOutcomeMismatches++;
            }
        } else {
            try dataSafe.suspendMember(identityAuthority, 10) {
                authoritySuspended = true;
            } catch {
                ghostOutcomeMismatches++;
            }
        }
    }

    function warp(uint256 secondsSeed) external {
        currentTime += _bound(secondsSeed, 1, 3 days);
        vm.warp(currentTime);
    }

    // ================================================================ model helpers

    function _renewed(
        GrantKey memory key,
        IConsentManager.Grant memory before,
        uint40 expiresAt,
        uint32 maxReads
    ) internal {
        bytes32 grantId = _grantId(key);
        GrantModel storage grant = grants[grantId];
        if (grant.version == 0) {
            grantIds.push(grantId);
            grant.key = key;
        }
        if (before.version != grant.version || before.reads != grant.reads) ghostModelDrift++;
        if (before.version != 0) {
            ghostRetiredReads += before.reads;
            if (before.reads > before.maxReads) ghostRetiredOverMax++;
        }
        grant.active = true;
        grant.expiresAt = expiresAt;
        grant.maxReads = maxReads;
        grant.reads = 0;
        grant.version = before.version + 1;
        callsGranted++;
    }

    function _isActiveConsumer(address account) internal view returns (bool) {
        return account != nonConsumer && !suspended[account];
    }

    function _assetValid(AssetModel memory asset) internal view returns (bool) {
        return asset.current && (asset.validUntil == 0 || currentTime <= asset.validUntil);
    }

    function _targetsValid(uint256 s, GrantScope scope, bytes32[] memory targets) internal view returns (bool) {
        for (uint256 t; t < targets.length; ++t) {
            if (scope == GrantScope.DataType) {
                // an active department authorised for the type names it: types 1..3, their issuers
                uint256 value = uint256(targets[t]);
                uint256 dataType = uint32(value);
                if (value >> 192 != 0 || dataType == 0 || dataType > ISSUED_TYPES) return false;
                if (address(uint160(value >> 32)) != issuerOfType[dataType]) return false;
            } else {
                (bool known, AssetModel memory asset) = _findAsset(targets[t]);
                if (!known || !_assetValid(asset) || asset.subject != s) return false;
            }
        }
        return true;
    }

    /// @dev One or two distinct targets: type ids 1..5 from their issuer (now and then from the
    /// other department), or assets (mostly the subject's own).
    function _targets(uint256 s, uint256 seed) internal view returns (GrantScope scope, bytes32[] memory targets) {
        uint256 count = 1 + ((seed >> 1) % 2);
        targets = new bytes32[](count);
        if (seed % 2 == 0) {
            scope = GrantScope.DataType;
            // mostly the issued types 1..3; one time in eight the deprecated or the undefined one
            uint256 range = (seed >> 8) % 8 == 0 ? TYPE_IDS : 3;
            uint256 first = (seed >> 2) % range;
            bool wrongIssuer = (seed >> 12) % 8 == 0;
            for (uint256 t; t < count; ++t) {
                uint32 dataType = uint32(1 + ((first + t) % range));
                // types 4 and 5 had, or never had, the housing-fund centre as issuer
                address issuer = dataType > ISSUED_TYPES ? issuerOfType[3] : issuerOfType[dataType];
                if (wrongIssuer) issuer = issuer == issuerOfType[3] ? issuerOfType[1] : issuerOfType[3];
                targets[t] = _typeTarget(issuer, dataType);
            }
        } else {
            scope = GrantScope.Asset;
            if (assets.length == 0) {
                for (uint256 t; t < count; ++t) {
                    targets[t] = keccak256(abi.encode("no asset yet", seed, t));
                }
                return (scope, targets);
            }
            uint256 start = (seed >> 2) % assets.length;
            bool anyOwner = (seed >> 16) % 5 == 0;
            uint256 found;
            for (uint256 i; i < assets.length && found < count; ++i) {
                AssetModel storage asset = assets[(start + i) % assets.length];
                if (anyOwner || asset.subject == s) targets[found++] = asset.id;
            }
            if (found == 0) targets[found++] = assets[start].id;
            assembly {
                mstore(targets, found)
            }
        }
    }

    /// @dev One or two distinct consumers; now and then the department that is not a consumer.
    function _consumers(uint256 seed) internal view returns (address[] memory list) {
        uint256 count = 1 + ((seed >> 8) % 2);
        list = new address[](count);
        uint256 first = seed % 3;
        for (uint256 c; c < count; ++c) {
            list[c] = consumers[(first + c) % 3];
        }
        if ((seed >> 16) % 7 == 0) list[0] = nonConsumer;
    }

    /// @dev The key of an asset of subject `s` that `key` (a grant's) names or covers: the asset
    /// itself for an asset grant; for a type grant, one of the subject's assets of that type,
    /// searched from `seed`, a valid one if there is one, a made-up one if there is none.
    function _coveredAsset(uint256 s, GrantKey memory key, uint256 seed) internal view returns (AssetKey memory found) {
        if (key.scope == GrantScope.Asset) {
            (bool known, AssetModel memory asset) = _findAsset(key.target);
            if (known && asset.subject == s) return asset.key;
            // an asset grant's target is always the granting subject's; for another subject, its
            // asset of the same type stands in
            if (known)
                key = GrantKey(
                    key.subjectId,
                    key.consumer,
                    GrantScope.DataType,
                    _typeTarget(asset.key.issuer, asset.key.dataType),
                    0
                );
            else return _unknownAsset(s, 1, seed);
        }
        uint32 dataType = uint32(uint256(key.target)); // the low 32 bits: the type
        found = _unknownAsset(s, dataType, seed);
        if (assets.length == 0) return found;
        uint256 start = seed % assets.length;
        bool any;
        for (uint256 i; i < assets.length; ++i) {
            AssetModel storage asset = assets[(start + i) % assets.length];
            if (asset.subject != s || asset.key.dataType != dataType) continue;
            if (_assetValid(asset)) return asset.key;
            if (!any) (any, found) = (true, asset.key);
        }
    }

    /// @dev A key of subject `s` and `dataType` that names no asset.
    function _unknownAsset(uint256 s, uint32 dataType, uint256 seed) internal view returns (AssetKey memory) {
        return
            AssetKey(
                dataType == 3 ? issuerOfType[3] : issuerOfType[1],
                subjects[s].id,
                dataType,
                keccak256(abi.encode("no asset", seed))
            );
    }

    function _findAsset(bytes32 assetId) internal view returns (bool known, AssetModel memory asset) {
        for (uint256 i; i < assets.length; ++i) {
            if (assets[i].id == assetId) return (true, assets[i]);
        }
    }

    function _subjectIndex(bytes32 subjectId) internal view returns (uint256) {
        for (uint256 i; i < SUBJECTS; ++i) {
            if (subjects[i].id == subjectId) return i;
        }
        revert UnknownSubject(subjectId);
    }

    /// @dev A request made to subject `s` (open or not), or a made-up one if there is none.
    function _requestOf(uint256 s) internal view returns (AccessRequest memory request) {
        for (uint256 i = requests.length; i > 0; --i) {
            if (requests[i - 1].subjectId == subjects[s].id) return requests[i - 1];
        }
        request = AccessRequest(
            subjects[s].id,
            consumers[0],
            GrantScope.DataType,
            _oneTarget(_typeTarget(issuerOfType[1], 1)),
            0,
            1,
            1 days,
            1,
            uint40(currentTime + 1 days),
            0
        );
    }

    /// @dev A grant of subject `s` (preferably active), or a made-up key if there is none.
    function _grantKeyOf(uint256 s) internal view returns (GrantKey memory key) {
        key = GrantKey(subjects[s].id, consumers[0], GrantScope.DataType, _typeTarget(issuerOfType[1], 1), 1);
        for (uint256 i; i < grantIds.length; ++i) {
            GrantModel storage grant = grants[grantIds[i]];
            if (grant.key.subjectId == subjects[s].id) {
                key = grant.key;
                if (grant.active) return key;
            }
        }
    }

    function _oneConsumer(address account) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = account;
    }

    function _oneTarget(bytes32 target) internal pure returns (bytes32[] memory list) {
        list = new bytes32[](1);
        list[0] = target;
    }

    // ================================================================ views for the invariants

    function grantCount() external view returns (uint256) {
        return grantIds.length;
    }

    function grantAt(uint256 index) external view returns (bytes32 grantId, GrantModel memory grant) {
        grantId = grantIds[index];
        grant = grants[grantId];
    }

    function subjectAt(uint256 index) external view returns (SubjectModel memory) {
        return subjects[index];
    }

    function assetCount() external view returns (uint256) {
        return assets.length;
    }

    function consumerAt(uint256 index) external view returns (address) {
        return consumers[index];
    }
}
