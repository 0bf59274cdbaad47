// Serialises `start`, `stop` and `restart` of one home across processes: two at once never make two
// containers. The lock (home/lockLink.ts: a symbolic link created in one step) names the owner's pid and
// process start time, so a lock left by a killed CLI is recognised as stale and taken over.
import { renameSync, unlinkSync } from 'node:fs';
import { UserError } from '../errors.js';
import { isSameProcess, processStartTime } from '../platform/ProcessFacts.js';
import { createLockLink, readLockLink, removeLockLink } from './lockLink.js';
import type { StigmerHome } from './StigmerHome.js';

export interface HeldLock {
	release(): void;
}

export async function acquireHomeLock(home: StigmerHome, options: { timeoutMs?: number; what?: string; signal?: AbortSignal } = {}): Promise<HeldLock> {
	const file = home.lockFile;
	const deadline = Date.now() + (options.timeoutMs ?? 120_000);
	const me = `${process.pid} ${processStartTime(process.pid) || '-'}`;
	let waitMs = 20;
	for (;;) {
		if (createLockLink(file, me)) {
			let released = false;
			return {
				release() {
					if (released) return;
					released = true;
					removeLockLink(file, me);
				},
			};
		}
		const owner = readLockLink(file);
		if (owner === null) continue; // released meanwhile
		const [pidText, start] = owner.split(' ');
		const pid = Number(pidText);
		if (!Number.isInteger(pid) || pid <= 0 || !isSameProcess(pid, start === '-' ? null : (start ?? null))) {
			// Stale: move it aside atomically so only one waiter takes it over.
			try {
				const aside = `${file}.stale.${process.pid}`;
				renameSync(file, aside);
				if (readLockLink(aside) !== owner) renameSync(aside, file);
				else unlinkSync(aside);
			} catch {
				// someone else took it over first
			}
			continue;
		}
		if (Date.now() > deadline) {
			throw new UserError(`another stigmer (pid ${pid}) is ${options.what ?? 'changing'} this stack and did not finish in time`, 1, `wait for it, or stop it (kill ${pid}) and try again`);
		}
		if (options.signal?.aborted) throw new UserError('interrupted while waiting for another stigmer', 130);
		await new Promise((r) => setTimeout(r, waitMs));
		waitMs = Math.min(waitMs * 2, 200);
	}
}
