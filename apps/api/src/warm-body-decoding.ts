import iconv from 'iconv-lite';

/**
 * express.json() decodes bodies with iconv-lite, which loads every encoding table it has (~30
 * modules, half a megabyte of source) on its first decode: seen taking ~250 ms of the event loop in
 * the first second of traffic after a start. Asking for the decoder once at start-up loads them
 * there. The same module instance: iconv-lite is hoisted, and body-parser and raw-body ask for ^0.7.
 */
export function warmBodyDecoding(): void {
  iconv.getDecoder('utf-8');
}
