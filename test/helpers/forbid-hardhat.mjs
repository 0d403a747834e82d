// Loaded with `node --import` into the gateway's process by the end-to-end tests: the gateway must
// run on the SDK and ethers alone, so resolving Hardhat or one of its plugins fails the start.
import { register } from "node:module";

const hook = `
export async function resolve(specifier, context, next) {
  if (/^(hardhat|@nomicfoundation\\/)/.test(specifier)) {
    throw new Error("the gateway imported " + specifier + " (from " + context.parentURL + "): it must not need Hardhat at run time");
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
