import { expect } from "chai";
import hre from "hardhat";

/** EIP-170: the most runtime code a contract may have; Besu refuses a larger deployment. */
const MAX_RUNTIME_BYTES = 24_576;

/** The contracts the Ignition modules deploy. */
const DEPLOYED = ["DataSafe", "DataCatalog", "DataSafeAccessManager", "KeyDirectory"];

describe("deployed code size (EIP-170)", () => {
  for (const name of DEPLOYED) {
    it(`${name} fits in ${MAX_RUNTIME_BYTES} bytes of runtime code`, async () => {
      const artifact = await hre.artifacts.readArtifact(name);
      const size = (artifact.deployedBytecode.length - 2) / 2;
      expect(size, `${name} is ${size} bytes`).to.be.greaterThan(0).and.at.most(MAX_RUNTIME_BYTES);
    });
  }
});
