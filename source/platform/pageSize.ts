// The size of a memory page, which /proc/<pid>/stat counts RSS in: 4 KiB on x86, but 16 KiB or 64 KiB
// on some arm64 kernels (Apple silicon under Asahi Linux, many arm64 servers). Read once, then cached:
// from the kernel's auxiliary vector (AT_PAGESZ in /proc/self/auxv, no child process), else from
// `getconf PAGESIZE`, else 4096.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { childProcess } from '../lazyBuiltins.js';

const atPageSize = 6;
let cached: number | undefined;

export function pageSize(): number {
	return (cached ??= fromAuxv(readAuxv()) ?? fromGetconf() ?? 4096);
}

function readAuxv(): Buffer | null {
	try {
		return readFileSync('/proc/self/auxv');
	} catch {
		return null;
	}
}

/** AT_PAGESZ from an auxiliary vector: (type, value) pairs of machine words, ended by type 0. */
export function fromAuxv(auxv: Buffer | null, wordBytes = process.arch === 'ia32' || process.arch === 'arm' ? 4 : 8, littleEndian = endianness() === 'LE'): number | null {
	if (!auxv) return null;
	const read = (offset: number): number =>
		wordBytes === 8 ? Number(littleEndian ? auxv.readBigUInt64LE(offset) : auxv.readBigUInt64BE(offset)) : littleEndian ? auxv.readUInt32LE(offset) : auxv.readUInt32BE(offset);
	for (let offset = 0; offset + 2 * wordBytes <= auxv.length; offset += 2 * wordBytes) {
		const type = read(offset);
		if (type === 0) break;
		if (type === atPageSize) return validPageSize(read(offset + wordBytes));
	}
	return null;
}

function fromGetconf(): number | null {
	try {
		return validPageSize(
			Number(
				childProcess()
					.execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
					.trim(),
			),
		);
	} catch {
		return null;
	}
}

/** A power of two from 1 KiB to 1 MiB, or null. */
function validPageSize(size: number): number | null {
	return Number.isInteger(size) && size >= 1024 && size <= 1 << 20 && (size & (size - 1)) === 0 ? size : null;
}
