// Facts about the file system a path lives on, for messages that name it: its mount point (from
// /proc/self/mountinfo where there is one, else the path's nearest existing directory) and its free space
// (statfs). A write that fails for lack of room or a read-only mount becomes one sentence saying so.
import { accessSync, constants, readFileSync, statfsSync } from 'node:fs';
import path from 'node:path';

export interface FileSystemFacts {
	/** the mount point holding the path, or the path's nearest existing ancestor when mounts cannot be read */
	mountPoint: string;
	/** bytes an unprivileged writer may still use; null when statfs fails */
	freeBytes: number | null;
	totalBytes: number | null;
}

/** Errno codes that mean "the file system refuses writes", whatever the file. */
const refusalCodes = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

export function isFileSystemRefusal(error: unknown): boolean {
	return refusalCodes.has((error as NodeJS.ErrnoException | null)?.code ?? '');
}

export function fileSystemOf(target: string): FileSystemFacts {
	const resolved = path.resolve(target);
	let existing = resolved;
	let facts: { bavail: number; blocks: number; bsize: number } | null = null;
	for (;;) {
		try {
			facts = statfsSync(existing);
			break;
		} catch {
			const parent = path.dirname(existing);
			if (parent === existing) break;
			existing = parent;
		}
	}
	return {
		mountPoint: mountPointOf(existing),
		freeBytes: facts ? facts.bavail * facts.bsize : null,
		totalBytes: facts ? facts.blocks * facts.bsize : null,
	};
}

function mountPointOf(target: string): string {
	let mounts: string[];
	try {
		// field 5 is the mount point, octal-escaped (\040 for a space)
		mounts = readFileSync('/proc/self/mountinfo', 'utf8')
			.split('\n')
			.map((line) => line.split(' ')[4])
			.filter((m): m is string => m !== undefined)
			.map((m) => m.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))));
	} catch {
		return target;
	}
	let best = '/';
	for (const mount of mounts) {
		const inside = mount === '/' || target === mount || target.startsWith(`${mount}/`);
		if (inside && mount.length > best.length) best = mount;
	}
	return best;
}

export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * The one sentence for a write refused by the file system, e.g. "no space left on /mnt/home (12 KiB
 * free of 1.0 MiB) writing /mnt/home/run/natives.json"; null when `error` is not such a refusal.
 */
export function describeFileSystemRefusal(error: unknown, target: string): string | null {
	const code = (error as NodeJS.ErrnoException | null)?.code;
	if (!code || !refusalCodes.has(code)) return null;
	const fs = fileSystemOf(target);
	if (code === 'EROFS') return `read-only file system at ${fs.mountPoint} (writing ${target})`;
	const room = fs.freeBytes === null ? '' : ` (${formatBytes(fs.freeBytes)} free${fs.totalBytes ? ` of ${formatBytes(fs.totalBytes)}` : ''})`;
	const what = code === 'EDQUOT' ? 'disk quota exceeded on' : 'no space left on';
	return `${what} ${fs.mountPoint}${room} writing ${target}`;
}

/**
 * "read-only file system at <mount> (<path>)" when the nearest existing directory of `target` is on a
 * read-only mount, else null. For errors that do not say so themselves (a recursive mkdir reports ENOENT).
 */
export function readOnlyRefusal(target: string): string | null {
	let dir = path.resolve(target);
	for (;;) {
		try {
			accessSync(dir, constants.W_OK);
			return null;
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code === 'EROFS') return `read-only file system at ${fileSystemOf(dir).mountPoint} (${target})`;
			if (code !== 'ENOENT') return null;
		}
		const parent = path.dirname(dir);
		if (parent === dir) return null;
		dir = parent;
	}
}
