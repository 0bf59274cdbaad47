// The one way the CLI and the supervisor write a file under the home: a temporary file beside it,
// fsync, rename over the target, fsync of the directory. A reader sees the old content or the new one,
// never half of it, even after a crash or power loss. Temporary files are `<name>.<pid>.tmp`; what a
// writer that died leaves behind is removed by removeLeftoverTempFiles at the next start.
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { describeFileSystemRefusal } from '../platform/fileSystem.js';
import { isSameProcess } from '../platform/ProcessFacts.js';

const tempName = /\.(\d+)(?:\.\d+)?\.tmp$/;
let sequence = 0;

/**
 * Replaces `file` with `data` atomically. A full or read-only file system throws a UserError naming it
 * and its free space (describeFileSystemRefusal); the temporary file never outlives a failure.
 */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
	const temporary = `${file}.${process.pid}.${++sequence}.tmp`;
	let fd: number | null = null;
	try {
		fd = openSync(temporary, 'w', mode);
		const bytes = typeof data === 'string' ? Buffer.from(data) : data;
		let offset = 0;
		while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
		fsyncSync(fd);
		closeSync(fd);
		fd = null;
		renameSync(temporary, file);
	} catch (error) {
		if (fd !== null) closeSync(fd);
		rmSync(temporary, { force: true });
		const refusal = describeFileSystemRefusal(error, file);
		if (refusal) throw new UserError(refusal, 1, 'free some space there (or make it writable), then try again');
		throw error;
	}
	fsyncDirectory(path.dirname(file));
}

/** Makes a rename or a new name in `dir` durable; some file systems refuse it, which costs only durability. */
export function fsyncDirectory(dir: string): void {
	let fd: number | null = null;
	try {
		fd = openSync(dir, 'r');
		fsyncSync(fd);
	} catch {
		// not supported here (or the directory went away): the rename is still atomic
	} finally {
		if (fd !== null) closeSync(fd);
	}
}

/** Removes the `*.tmp` files in `dir` whose writer is no longer running; returns their names. */
export function removeLeftoverTempFiles(dir: string): string[] {
	let names: string[];
	try {
		names = readdirSync(dir);
	} catch {
		return [];
	}
	const removed: string[] = [];
	for (const name of names) {
		const match = tempName.exec(name);
		if (!match) continue;
		const writer = Number(match[1]);
		if (writer === process.pid || isSameProcess(writer, null)) continue;
		try {
			rmSync(path.join(dir, name), { force: true });
			removed.push(name);
		} catch {
			// a read-only home: nothing to clean there anyway
		}
	}
	return removed;
}
