// What the kernel's OOM killer did to the agent-runner container, from the engine's events, kept in the
// home (home/OomRecord.ts) so that it outlives what the engine remembers:
// - Docker 26+ and Podman clear State.OOMKilled when the restart policy starts the container again, so
//   an inspection after the restart shows a restart with no reason; Docker keeps only its last events
//   in memory (a busy engine forgets them within minutes).
// - Docker (every version) sends an `oom` event each time the OOM killer ends a process of the
//   container's cgroup. An `oom` followed within `dieWindowMs` by a `die` is the container's main
//   process (its exit follows the kill: 137, or the launcher's own code when its service was killed);
//   an `oom` with no `die` after it is a process inside, the container living on.
// - Podman 4.3 sends no `oom` event and leaves OOMKilled false when the service (not pid 1) is killed:
//   there OOM kills are not seen (README, "Supported engines").
import type { OomRecord } from '../home/OomRecord.js';
import type { DockerApi } from '../engine/DockerApi.js';

/** An `oom` this close before a `die` killed the main process (both come within ms of each other). */
export const dieWindowMs = 2000;

export interface OomEvent {
	action: 'oom' | 'die';
	/** ns since the epoch */
	timeNano: number;
}

const iso = (timeNano: number) => new Date(Math.round(timeNano / 1e6)).toISOString();

/**
 * The record after `events` (any order; those already counted in `record` are skipped by time).
 * An `oom` younger than `dieWindowMs` at `nowMs` with no `die` yet is left for a later call.
 */
export function foldOomEvents(record: OomRecord | null, containerId: string, events: OomEvent[], nowMs = Date.now()): OomRecord {
	const next: OomRecord = record?.containerId === containerId ? { ...record } : { containerId, killedAt: null, processKills: 0, lastProcessKillAt: null, seenUntilNano: 0 };
	const sorted = events.filter((e) => e.timeNano > next.seenUntilNano).sort((a, b) => a.timeNano - b.timeNano);
	let pending: number[] = [];
	let seenUntil = next.seenUntilNano;
	for (const event of sorted) {
		if (event.action === 'oom') {
			pending.push(event.timeNano);
			continue;
		}
		// a die: the ooms just before it killed the main process; older ones were processes inside
		const killers = pending.filter((t) => event.timeNano - t <= dieWindowMs * 1e6);
		const inside = pending.filter((t) => event.timeNano - t > dieWindowMs * 1e6);
		countInside(next, inside);
		if (killers.length > 0) next.killedAt = iso(event.timeNano);
		pending = [];
		seenUntil = event.timeNano;
	}
	// ooms with no die after them: processes inside, once the window has passed since the last of them
	const decided = pending.length > 0 && nowMs * 1e6 - Math.max(...pending) > dieWindowMs * 1e6 ? pending : [];
	countInside(next, decided);
	if (decided.length > 0) seenUntil = Math.max(seenUntil, ...decided);
	next.seenUntilNano = seenUntil;
	return next;
}

/**
 * One kill sends a burst of `oom` events (the memory cgroup notifies each time it hits its limit while
 * the killer works: 3–4 for one process here): events less than this apart count as one kill.
 */
export const oomBurstMs = 1000;

function countInside(record: OomRecord, times: number[]): void {
	if (times.length === 0) return;
	const last = record.lastProcessKillAt ? Date.parse(record.lastProcessKillAt) * 1e6 : 0;
	const kills = times.filter((t, i) => t - (i === 0 ? last : times[i - 1]!) > oomBurstMs * 1e6).length;
	record.processKills += kills;
	record.lastProcessKillAt = iso(Math.max(...times));
}

/** True when the record holds an `oom` that may still turn out to be the main process's (ask again after dieWindowMs). */
export function oomUndecided(events: OomEvent[], record: OomRecord): boolean {
	return events.some((e) => e.action === 'oom' && e.timeNano > record.seenUntilNano);
}

/** The container's `oom` and `die` events since `sinceMs`, as far as the engine still remembers them. */
export async function pastOomEvents(api: DockerApi, containerId: string, sinceMs: number, nowMs = Date.now()): Promise<OomEvent[]> {
	const raw = (await api.docker.getEvents({
		since: Math.floor(sinceMs / 1000),
		until: Math.ceil(nowMs / 1000),
		filters: { type: ['container'], container: [containerId], event: ['oom', 'die'] },
		abortSignal: AbortSignal.timeout(5000),
	} as Parameters<typeof api.docker.getEvents>[0])) as unknown;
	const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : await readAll(raw as AsyncIterable<Buffer>);
	const events: OomEvent[] = [];
	for (const line of text.split('\n')) {
		if (!line.trim()) continue;
		const event = JSON.parse(line) as { Action?: string; status?: string; id?: string; Actor?: { ID?: string }; timeNano?: number; time?: number };
		const action = event.Action ?? event.status;
		if (action !== 'oom' && action !== 'die') continue;
		// the engine's `container` filter matches names too: an earlier container of the same name is not this one
		if ((event.Actor?.ID ?? event.id) !== containerId) continue;
		events.push({ action, timeNano: event.timeNano ?? (event.time ?? 0) * 1e9 });
	}
	return events;
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(Buffer.from(chunk));
	return Buffer.concat(chunks).toString('utf8');
}
