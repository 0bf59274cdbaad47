// Lock files as symbolic links whose target is the owner ("<pid> <start time>"): creating one is a single
// atomic step (symlink(2) fails with EEXIST when it exists), so a lock is never seen empty or half-written,
// and a short link needs no data block, so a lock can still be taken on a full disk (`server stop` must
// work there). Regular lock files written by older versions are still read.
import { readFileSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { describeFileSystemRefusal } from '../platform/fileSystem.js';
import { UserError } from '../errors.js';

/** Creates the lock naming `owner`; false when it exists already. */
export function createLockLink(file: string, owner: string): boolean {
	try {
		symlinkSync(owner, file);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
		const refusal = describeFileSystemRefusal(error, file);
		throw new UserError(
			`cannot create the lock file ${file}: ${refusal ?? (error as Error).message}`,
			1,
			refusal ? 'free some space there (or make it writable), then try again' : 'check that the stigmer home is writable',
		);
	}
}

/** The owner recorded in the lock, '' for an unreadable one, null when there is no lock. */
export function readLockLink(file: string): string | null {
	try {
		return readlinkSync(file);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') return null;
		if (code !== 'EINVAL') return '';
	}
	try {
		return readFileSync(file, 'utf8').trim(); // a regular file from an older version
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : '';
	}
}

/** Removes the lock if it still names `owner`. */
export function removeLockLink(file: string, owner: string): void {
	if (readLockLink(file) !== owner) return;
	try {
		unlinkSync(file);
	} catch {
		// already gone
	}
}

/** Removes the lock unconditionally (a stale one, taken over). */
export function breakLockLink(file: string): void {
	try {
		unlinkSync(file);
	} catch {
		// already gone
	}
}
