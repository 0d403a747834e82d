/*
 * Keys live in encrypted JSON keystores (the Web3 Secret Storage format ethers reads and writes),
 * never in a flag: a flag's value lands in shell history and `ps`. The password comes from
 * DATASAFE_KEYSTORE_PASSWORD, a password file, or a hidden prompt when a person is at a terminal.
 */
import { readFile } from "node:fs/promises";

import { Wallet, encryptKeystoreJson, isKeystoreJson } from "ethers";

import { BadInputError } from "./errors.js";

export const PASSWORD_ENV = "DATASAFE_KEYSTORE_PASSWORD";

/** Where a password comes from, in order: the environment, a file, the terminal. */
export interface PasswordSource {
  passwordFile?: string;
  /** What the prompt asks, e.g. `Password for keystore.json`. */
  prompt: string;
  /** Ask twice (a new keystore). */
  confirm?: boolean;
}

/**
 * The keystore password.
 * @throws BadInputError if there is none (no env, no file, not a terminal) or the file is unreadable
 */
export async function readPassword(source: PasswordSource): Promise<string> {
  const fromEnv = process.env[PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (source.passwordFile !== undefined) {
    try {
      // One trailing newline is the editor's, not the password's.
      return (await readFile(source.passwordFile, "utf8")).replace(/\r?\n$/, "");
    } catch (error) {
      throw new BadInputError(`cannot read the password file (${(error as Error).message})`, {
        field: "--password-file",
      });
    }
  }
  if (!process.stdin.isTTY) {
    throw new BadInputError(
      `no keystore password: set ${PASSWORD_ENV}, pass --password-file FILE, or run on a terminal`,
      {
        field: "--password-file",
      },
    );
  }
  const password = await promptHidden(`${source.prompt}: `);
  if (source.confirm === true && (await promptHidden("Repeat it: ")) !== password) {
    throw new BadInputError("the passwords differ", { field: "password" });
  }
  return password;
}

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding("utf8");
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = "";
      const onData = (chunk: string) => {
        for (const char of chunk) {
          if (char === "\r" || char === "\n") {
            input.off("data", onData);
            process.stderr.write("\n");
            resolve(typed);
            return;
          }
          if (char === "\u0003") {
            input.off("data", onData);
            reject(new BadInputError("cancelled at the password prompt", { field: "password" }));
            return;
          }
          typed = char === "\u007f" || char === "\b" ? typed.slice(0, -1) : typed + char;
        }
      };
      input.on("data", onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
  }
}

/**
 * Opens a keystore file.
 * @throws BadInputError if the file is unreadable, not a keystore, or the password is wrong
 */
export async function openKeystore(file: string, password: string): Promise<Wallet> {
  let json: string;
  try {
    json = await readFile(file, "utf8");
  } catch (error) {
    throw new BadInputError(`cannot read the keystore (${(error as Error).message})`, { field: "--keystore" });
  }
  if (!isKeystoreJson(json)) throw new BadInputError("not an encrypted JSON keystore", { file, field: "--keystore" });
  try {
    const wallet = await Wallet.fromEncryptedJson(json, password);
    return wallet instanceof Wallet ? wallet : new Wallet(wallet.privateKey);
  } catch (error) {
    throw new BadInputError(
      "cannot decrypt the keystore: wrong password?",
      { file, field: "password" },
      { cause: error },
    );
  }
}

/** The account a keystore holds, read from its `address` field without decrypting it. */
export async function keystoreAddress(file: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as { address?: unknown };
    return typeof parsed.address === "string" ? parsed.address : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A keystore's JSON for `privateKey`, encrypted with scrypt at cost `n` (ethers' default 2^17;
 * lower costs open faster and resist guessing less).
 */
export async function encryptKey(privateKey: string, address: string, password: string, n: number): Promise<string> {
  return encryptKeystoreJson({ address, privateKey }, password, { scrypt: { N: n } });
}
