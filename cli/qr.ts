/*
 * QR codes of datasafe URIs: a PNG file (what a counter screen shows, what a phone camera reads), a
 * terminal rendering, and a real decoder for a PNG a holder scanned or saved. Medium error
 * correction (M, ~15 % of the code may be damaged or glared), the level phone cameras read
 * comfortably at a counter; a URI needing a version above MAX_QR_VERSION is refused rather than
 * printed as a code too dense to scan.
 *
 * Encoding: `qrcode` (pinned 1.5.4: maintained, pure JavaScript, writes PNG and terminal output,
 * and picks numeric / alphanumeric / byte segments itself, UTF-8 in byte mode). Decoding: `jsqr`
 * (1.4.0, pure JavaScript, the decoder browsers' scanners use) over pixels read by `pngjs` (7.0.0).
 */
import { readFile, writeFile } from "node:fs/promises";

import jsQRModule from "jsqr";
import pngjs from "pngjs";
import QRCode from "qrcode";

import { DataSafeError, InvalidInputError } from "../sdk/errors.js";

// jsqr is CommonJS with an ES-style `default` in its types: under Node's ESM the import is the
// module object whose `default` is the function (and, bundled, the function itself).
type Decode = typeof jsQRModule.default;
const jsQR: Decode = (jsQRModule as unknown as { default?: Decode }).default ?? (jsQRModule as unknown as Decode);

/** Error correction of every code written: M. */
export const QR_ERROR_CORRECTION = "M";
/** Densest version written: 77×77 modules, what a phone reads from a screen at arm's length. */
export const MAX_QR_VERSION = 15;

/** A URI too long for a QR code of at most `MAX_QR_VERSION` at level M. */
export class QrTooLargeError extends DataSafeError {
  readonly version: number;

  constructor(version: number, length: number) {
    super(`the URI needs a version ${version} QR code, more than ${MAX_QR_VERSION}`, {
      details: `${length} bytes of UTF-8 at error correction ${QR_ERROR_CORRECTION}`,
    });
    this.name = "QrTooLargeError";
    this.version = version;
  }
}

/** The QR version `text` needs at level M. */
export function qrVersionOf(text: string): number {
  return QRCode.create(text, { errorCorrectionLevel: QR_ERROR_CORRECTION }).version;
}

/** `text`'s version, checked to be at most `MAX_QR_VERSION`. */
export function checkedVersion(text: string): number {
  const version = qrVersionOf(text);
  if (version > MAX_QR_VERSION) throw new QrTooLargeError(version, new TextEncoder().encode(text).length);
  return version;
}

/**
 * Writes `text` as a PNG QR code.
 * @param scale pixels per module (default 8: a version-15 code is 680 px wide with its quiet zone)
 * @returns the QR version
 */
export async function writeQrPng(file: string, text: string, scale = 8): Promise<number> {
  const version = checkedVersion(text);
  const png = await QRCode.toBuffer(text, { type: "png", errorCorrectionLevel: QR_ERROR_CORRECTION, scale, margin: 4 });
  await writeFile(file, png);
  return version;
}

/** `text` as a QR code drawn with half blocks for a terminal, and its version. */
export async function terminalQr(text: string): Promise<{ drawing: string; version: number }> {
  const version = checkedVersion(text);
  const drawing = await QRCode.toString(text, {
    type: "terminal",
    small: true,
    errorCorrectionLevel: QR_ERROR_CORRECTION,
  });
  return { drawing, version };
}

/**
 * Reads the QR code in a PNG file (a screenshot or photo saved as PNG works as long as the code is
 * sharp): the text it carries and its version.
 * @throws InvalidInputError naming `field` if the file is not a PNG or holds no readable code
 */
export async function readQrPng(file: string, field = "--qr"): Promise<{ text: string; version: number }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new InvalidInputError(field, `cannot read ${file}`, { cause: error });
  }
  let image: pngjs.PNG;
  try {
    image = pngjs.PNG.sync.read(bytes);
  } catch (error) {
    throw new InvalidInputError(field, `${file} is not a PNG image`, { cause: error });
  }
  const code = jsQR(
    new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length),
    image.width,
    image.height,
    {
      inversionAttempts: "attemptBoth",
    },
  );
  if (code === null) throw new InvalidInputError(field, `no QR code found in ${file}`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(code.binaryData));
  } catch {
    text = code.data;
  }
  return { text, version: code.version };
}
