// OOM kills in the status row (status and the dashboard alike): the home's record (home/OomRecord.ts)
// brought up to date with the engine's events (agentRunner/oomEvents.ts) and, where the engine sends no `oom`
// event (Podman), with the container's cgroup counter read on this machine (platform/cgroupOomKills.ts):
// a kill inside is then dated when it was first read, not when it happened (the dashboard reads every
// second, `status` when it runs).
import type { DockerApi } from '../engine/DockerApi.js';
import { type OomRecord, oomSeen, readOomRecord, writeOomRecord } from '../home/OomRecord.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { cgroupOomKills } from '../platform/cgroupOomKills.js';
import type { ServiceStatus } from '../serviceStatus.js';
import type { ContainerInspect } from './ContainerService.js';
import { engineSendsNoOom, foldOomEvents, oomUndecided, pastOomEvents } from './oomEvents.js';

export interface OomState {
	record: OomRecord | null;
	/** an `oom` came less than dieWindowMs ago with no `die` yet: ask again after that window */
	undecided: boolean;
}

/** The record of the container, with what the engine's events add to it (written back when they do). */
export async function refreshOomRecord(api: DockerApi, home: StigmerHome, inspect: ContainerInspect | null, nowMs = Date.now()): Promise<OomState> {
	const stored = readOomRecord(home);
	if (!inspect) return { record: null, undecided: false };
	const known = stored?.containerId === inspect.Id ? stored : null;
	const sinceMs = Math.max(Date.parse(inspect.Created) || 0, (known?.seenUntilNano ?? 0) / 1e6);
	let events: Awaited<ReturnType<typeof pastOomEvents>>;
	try {
		events = await pastOomEvents(api, inspect.Id, sinceMs, nowMs);
	} catch {
		return { record: known, undecided: false }; // an engine that cannot list past events: what the home knows
	}
	const noOomEvents = engineSendsNoOom(api);
	const record = foldOomEvents(known, inspect.Id, events, nowMs, noOomEvents);
	if (noOomEvents && inspect.State.Running) countFromCgroup(record, inspect, nowMs);
	if (oomSeen(record) && JSON.stringify(record) !== JSON.stringify(known)) {
		try {
			home.ensureLayout();
			writeOomRecord(home, record);
		} catch {
			// a home that cannot be written: shown now, not kept
		}
	}
	return { record: oomSeen(record) ? record : null, undecided: oomUndecided(events, record) };
}

/** Kills inside the container the cgroup counted since the container's start and the record does not hold yet. */
function countFromCgroup(record: OomRecord, inspect: ContainerInspect, nowMs: number): void {
	const count = cgroupOomKills(inspect.State.Pid, inspect.Id);
	if (count === null) return;
	const counted = record.cgroup?.startedAt === inspect.State.StartedAt ? record.cgroup.count : 0;
	if (count > counted) {
		record.processKills += count - counted;
		record.lastProcessKillAt = new Date(nowMs).toISOString();
	}
	if (count > 0 || record.cgroup) record.cgroup = { startedAt: inspect.State.StartedAt, count };
}

/** The row with what the record says: oomKilled and when, and the processes killed inside. */
export function withOom(row: ServiceStatus, record: OomRecord | null): ServiceStatus {
	if (!record || record.containerId !== row.id) return row;
	const next: ServiceStatus = { ...row };
	if (record.killedAt) {
		next.oomKilled = true;
		next.oomKilledAt = record.killedAt;
	}
	if (record.processKills > 0 && record.lastProcessKillAt) next.oomKills = { count: record.processKills, lastAt: record.lastProcessKillAt };
	return next;
}

/** "OOM-killed at 21:58:03; 2 processes OOM-killed, the last at 22:01:10" (local time), or null. */
export function oomNote(row: ServiceStatus): string | null {
	const time = (at: string) => new Date(at).toLocaleTimeString('en-GB', { hour12: false });
	const parts: string[] = [];
	if (row.oomKilledAt) parts.push(`OOM-killed at ${time(row.oomKilledAt)}`);
	if (row.oomKills) parts.push(`${row.oomKills.count} process${row.oomKills.count === 1 ? '' : 'es'} OOM-killed, the last at ${time(row.oomKills.lastAt)}`);
	return parts.length > 0 ? parts.join('; ') : null;
}
