// A native service's process group, from outside the process: whether the group is still ours (pid
// reuse), signalling and terminating it, and who listens on a port the service's readiness probe asks.
// NativeService.ts runs one service; homeNatives.ts finds and ends the natives a killed supervisor left.
import { isSameProcess, processFacts, processGroupAlive } from '../platform/ProcessFacts.js';
import type { ProcessGuard } from './protocol.js';

/** False when the group's leader pid now belongs to another process (pid reuse). */
export function groupStillOurs(group: ProcessGuard): boolean {
	const leader = processFacts().info(group.pid);
	return !(leader && leader.state !== 'Z' && group.startTime !== '' && leader.startTime !== group.startTime);
}

/**
 * Signals process group `group.pid`, unless its leader's pid now belongs to another process (pid reuse).
 * A dead leader is fine: Linux does not hand out a pid while a process group of that id has members.
 */
export function signalGroup(group: ProcessGuard, signal: NodeJS.Signals): boolean {
	if (!groupStillOurs(group)) return false;
	try {
		process.kill(-group.pid, signal);
		return true;
	} catch {
		return false;
	}
}

/**
 * SIGTERM, then SIGKILL after `timeoutMs`, to a process group; resolves when its leader has exited (as
 * told by `leaderGone`/`onLeaderExit`) and no live member is left, or after a bounded wait past SIGKILL.
 */
export async function terminateGroup(group: ProcessGuard, leaderGone: () => boolean, onLeaderExit: (waiter: () => void) => void, timeoutMs: number): Promise<void> {
	const gone = () => leaderGone() && !processGroupAlive(group.pid);
	if (gone()) return;
	if (!signalGroup(group, 'SIGTERM')) {
		if (!isSameProcess(group.pid, group.startTime) && leaderGone()) return;
	}
	if (await waitFor(gone, onLeaderExit, timeoutMs)) return;
	signalGroup(group, 'SIGKILL');
	await waitFor(gone, onLeaderExit, 5000);
}

async function waitFor(done: () => boolean, onLeaderExit: (waiter: () => void) => void, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	let intervalMs = 10;
	while (!done()) {
		const left = deadline - Date.now();
		if (left <= 0) return false;
		await new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, Math.min(intervalMs, left));
			onLeaderExit(() => {
				clearTimeout(timer);
				resolve();
			});
		});
		intervalMs = Math.min(intervalMs * 2, 100);
	}
	return true;
}

/** "port N is held by pid P (command), not by <service>" when a process outside `group` listens there; else null. */
export function foreignListener(port: number, group: ProcessGuard | null, service: string): string | null {
	if (!group) return null;
	const facts = processFacts();
	// the service itself listens (the usual case: one process's fds), else one of its children
	if (facts.listenerAmong(port, [group.pid]) !== false) return null;
	if (
		facts.listenerAmong(
			port,
			facts.tree(group.pid).map((p) => p.pid),
		) === true
	)
		return null;
	const owner = facts.portOwner(port);
	if (!owner) return null;
	if (facts.info(owner.pid)?.pgrp === group.pid) return null;
	return `port ${port} is held by pid ${owner.pid} (${owner.command || 'unknown command'}), not by ${service}`;
}

/** The port of a ready.http URL on this machine's loopback, whose listener can be checked; else null. */
export function loopbackPort(url: string): number | null {
	try {
		const parsed = new URL(url);
		if (!['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) return null;
		return Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
	} catch {
		return null;
	}
}
