/*
 * keys: encrypted JSON keystores. `new` makes an account, `import` wraps an existing key read from a
 * file (never a flag), `address` prints the account a keystore holds.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";

import type { Command } from "commander";
import { SigningKey, Wallet, computeAddress, getAddress } from "ethers";

import { integer } from "../args.js";
import { BadInputError } from "../errors.js";
import { encryptKey, keystoreAddress, openKeystore } from "../keystore.js";
import type { Runtime } from "../runtime.js";

/** ethers' (and geth's) default scrypt cost. */
const DEFAULT_SCRYPT_N = 2 ** 17;

export function register(program: Command, runtime: Runtime): void {
  const keys = program.command("keys").description("create, import and inspect encrypted keystores");

  const scryptN = (value: string) => {
    const n = integer("--scrypt-n", 2 ** 10, 2 ** 20)(value);
    if ((n & (n - 1)) !== 0) throw new BadInputError(`expected a power of two, got ${value}`, { field: "--scrypt-n" });
    return n;
  };

  keys
    .command("new")
    .description("create an account in a new encrypted keystore (password: env, --password-file or prompt)")
    .requiredOption("--out <file>", "keystore file to write")
    .option(
      "--scrypt-n <n>",
      `scrypt cost, a power of two (default ${DEFAULT_SCRYPT_N}; lower opens faster, resists guessing less)`,
      scryptN,
    )
    .option("--force", "overwrite an existing file")
    .action(async (options: { out: string; scryptN?: number; force?: boolean }) => {
      const wallet = Wallet.createRandom();
      const written = await write(runtime, options, wallet.privateKey, wallet.address);
      runtime.emit(written, `${written.address} → ${written.keystore}`);
    });

  keys
    .command("import")
    .description("encrypt an existing private key, read from a file (hex, one line), into a keystore")
    .requiredOption("--key-file <file>", "file holding the 0x-prefixed private key")
    .requiredOption("--out <file>", "keystore file to write")
    .option("--scrypt-n <n>", `scrypt cost, a power of two (default ${DEFAULT_SCRYPT_N})`, scryptN)
    .option("--force", "overwrite an existing file")
    .action(async (options: { keyFile: string; out: string; scryptN?: number; force?: boolean }) => {
      let key: string;
      try {
        key = (await readFile(options.keyFile, "utf8")).trim();
      } catch (error) {
        throw new BadInputError(`cannot read the key file (${(error as Error).message})`, { field: "--key-file" });
      }
      let address: string;
      try {
        address = computeAddress(new SigningKey(key.startsWith("0x") ? key : `0x${key}`));
      } catch {
        throw new BadInputError("not a 32-byte hex private key", { field: "--key-file", file: options.keyFile });
      }
      const written = await write(runtime, options, key.startsWith("0x") ? key : `0x${key}`, address);
      runtime.emit(written, `${written.address} → ${written.keystore}`);
    });

  keys
    .command("address")
    .description("print the account of the keystore (--keystore or the config's); --check decrypts it")
    .option("--check", "decrypt the keystore to prove the password opens it")
    .action(async (options: { check?: boolean }) => {
      const file = await runtime.keystoreFile();
      if (file === undefined)
        throw new BadInputError("pass --keystore FILE (or set keystore in --config)", { field: "--keystore" });
      let address: string | undefined;
      if (options.check === true) {
        address = (await openKeystore(file, await runtime.password(`Password for ${file}`))).address;
      } else {
        const stored = await keystoreAddress(file);
        address = stored === undefined ? undefined : getAddress(`0x${stored.replace(/^0x/, "")}`);
      }
      if (address === undefined)
        throw new BadInputError("not an encrypted JSON keystore", { file, field: "--keystore" });
      runtime.emit({ address, keystore: file, checked: options.check === true }, address);
    });
}

async function write(
  runtime: Runtime,
  options: { out: string; scryptN?: number; force?: boolean },
  privateKey: string,
  address: string,
): Promise<{ address: string; keystore: string }> {
  if (existsSync(options.out) && options.force !== true) {
    throw new BadInputError("the file exists; pass --force to overwrite it", { field: "--out", file: options.out });
  }
  const password = await runtime.password(`Password for the new keystore ${options.out}`, true);
  if (password.length < 8) throw new BadInputError("use a password of 8 characters or more", { field: "password" });
  const json = await encryptKey(privateKey, address, password, options.scryptN ?? DEFAULT_SCRYPT_N);
  await writeFile(options.out, json, { mode: 0o600 });
  return { address, keystore: options.out };
}
