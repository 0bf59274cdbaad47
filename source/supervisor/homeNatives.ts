// The natives of a home as the processes themselves tell it, for when the state file cannot be trusted
// (missing, truncated, or written by a supervisor that was killed since): every native the supervisor
// spawns carries nativeMarkerEnv (its home and service name) in its environment, so its process group is
// found again from the process table, with its pid and start time.
import { readFileSync } from 'node:fs';
import { nativeMarkerEnv } from '../contract.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { isSameProcess, processFacts, processGroupAlive } from '../platform/ProcessFacts.js';
import { groupStillOurs, terminateGroup } from './processGroup.js';
import type { NativeStateFile, ProcessGuard } from './protocol.js';
import { isActive } from '../serviceStatus.js';

export interface HomeNative {
	service: string;
	/** the process group (its leader's pid and start time; '' when the leader is gone but members live) */
	guard: ProcessGuard;
}

/** The state file, or null when it is missing, unreadable, truncated or not a state file. */
export function readStateFile(home: StigmerHome): NativeStateFile | null {
	try {
		const state = JSON.parse(readFileSync(home.nativeStateFile, 'utf8')) as NativeStateFile;
		return state && typeof state === 'object' && Array.isArray(state.services) ? state : null;
	} catch {
		return null;
	}
}

/** The live process groups carrying this home's native marker, one per group, leaders first. */
export function markedNatives(home: StigmerHome): HomeNative[] {
	const facts = processFacts();
	const groups = new Map<number, HomeNative>();
	for (const pid of facts.withEnv(nativeMarkerEnv.home, home.dir)) {
		const info = facts.info(pid);
		// never this process (a CLI started by a native inherits its marker), nor a zombie
		if (!info || info.state === 'Z' || pid === process.pid) continue;
		const known = groups.get(info.pgrp);
		if (known && known.guard.startTime !== '') continue;
		const service = facts.envValue(pid, nativeMarkerEnv.service);
		if (!service) continue;
		// a member's start time is not its group's: kept only for the leader
		groups.set(info.pgrp, { service, guard: { pid: info.pgrp, startTime: info.pid === info.pgrp ? info.startTime : '' } });
	}
	return [...groups.values()];
}

/**
 * Whether natives of this home may run without a supervisor: the state file is missing or unreadable, or
 * it was left by a supervisor that did not shut down (a clean shutdown records no supervisor, no guards
 * and nothing up). Only then is the process table searched (it reads every process's environment).
 */
export function mayHaveLeftNatives(state: NativeStateFile | null): boolean {
	return state === null || state.supervisor !== null || Object.keys(state.guards ?? {}).length > 0 || state.services.some((s) => isActive(s.state));
}

/**
 * What runs of this home's natives without a live supervisor: the groups the state file recorded that are
 * still ours, and every group carrying the home's marker.
 */
export function leftNatives(home: StigmerHome, state: NativeStateFile | null = readStateFile(home)): HomeNative[] {
	if (!mayHaveLeftNatives(state)) return [];
	const found = new Map<number, HomeNative>();
	for (const [service, guard] of Object.entries(state?.guards ?? {})) {
		if (groupStillOurs(guard) && processGroupAlive(guard.pid)) found.set(guard.pid, { service, guard });
	}
	for (const native of markedNatives(home)) if (!found.has(native.guard.pid)) found.set(native.guard.pid, native);
	return [...found.values()];
}

/** Stops what a dead supervisor left running (SIGTERM, SIGKILL after `timeoutMs`); returns their names. */
export async function stopLeftNatives(home: StigmerHome, timeoutMs: number, onStop: (native: HomeNative) => void = () => {}): Promise<string[]> {
	const left = leftNatives(home);
	await Promise.all(
		left.map(async (native) => {
			onStop(native);
			await terminateGroup(
				native.guard,
				() => native.guard.startTime === '' || !isSameProcess(native.guard.pid, native.guard.startTime),
				() => {},
				timeoutMs,
			);
		}),
	);
	return left.map((native) => native.service);
}
