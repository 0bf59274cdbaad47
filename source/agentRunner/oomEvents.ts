// What the kernel's OOM killer did to the agent-runner container, from the engine's events, kept in the
// home (home/OomRecord.ts) so that it outlives what the engine remembers:
// - Docker 26+ and Podman clear State.OOMKilled when the restart policy starts the container again, so
//   an inspection after the restart shows a restart with no reason; Docker keeps only its last 256 events
//   in memory (a busy engine forgets them within minutes).
// - Docker sends an `oom` event each time the OOM killer ends a process of the container's cgroup, as far
//   as its containerd shim hears of it (docs/engines.md: an engine that sends none). An `oom` followed
//   within `dieWindowMs` by a `die` is the container's main process (its exit follows the kill: 137, or
//   the launcher's own code when its service was killed); an `oom` with no `die` after it is a process
//   inside, the container living on.
// - Every engine, and the only way on Podman 4.3 (no `oom` event; OOMKilled stays false when the service,
//   not pid 1, is killed) or a Docker whose `oom` did not come: a `die` with exit code 137 (the launcher
//   exits 128 + 9 when its service died by SIGKILL, which only the OOM killer sends it) that no `kill` or
//   `stop` of the user came before within `userKillWindowMs` is the main process's OOM kill. When both
//   come, they are one kill (killedAt is a time, not a count). A process inside is then the container's
//   memory cgroup's own OOM counter, read on the host where the engine is local
//   (platform/cgroupOomKills.ts, agentRunner/oomStatus.ts). Podman's compat events endpoint answers
//   nothing to an absolute `until`, so its events are read from the libpod endpoint, which can end the
//   stream itself.
import type { OomRecord } from '../home/OomRecord.js';
import type { DockerApi } from '../engine/DockerApi.js';
import { isPodman } from '../engine/enginePing.js';
import { rawGet, readAll as readAllRaw, versionedPath } from '../engine/rawHttp.js';

/** An `oom` this close before a `die` killed the main process (both come within ms of each other). */
export const dieWindowMs = 2000;

export interface OomEvent {
	/** `kill` and `stop`: the user ended the container (a die by SIGKILL after them is theirs, not the OOM killer's) */
	action: 'oom' | 'die' | 'kill' | 'stop';
	/** ns since the epoch */
	timeNano: number;
	/** a die's exit code, when the engine says it */
	exitCode?: number;
}

/** A die by SIGKILL with no kill/stop of the user this long before it is the OOM killer's (every engine). */
export const userKillWindowMs = 60_000;

const iso = (timeNano: number) => new Date(Math.round(timeNano / 1e6)).toISOString();

/**
 * The record after `events` (any order; those already counted in `record` are skipped by time).
 * An `oom` younger than `dieWindowMs` at `nowMs` with no `die` yet is left for a later call.
 * `insideFromEvents` false: the caller counts the kills inside from the container's cgroup (a local
 * engine, agentRunner/oomStatus.ts), so an `oom` with no `die` after it is passed over, not counted twice.
 */
export function foldOomEvents(record: OomRecord | null, containerId: string, events: OomEvent[], nowMs = Date.now(), insideFromEvents = true): OomRecord {
	const next: OomRecord = record?.containerId === containerId ? { ...record } : { containerId, killedAt: null, processKills: 0, lastProcessKillAt: null, seenUntilNano: 0 };
	const sorted = events.filter((e) => e.timeNano > next.seenUntilNano).sort((a, b) => a.timeNano - b.timeNano);
	let pending: number[] = [];
	let seenUntil = next.seenUntilNano;
	for (const event of sorted) {
		if (event.action === 'oom') {
			pending.push(event.timeNano);
			continue;
		}
		if (event.action !== 'die') continue;
		// a die: the ooms just before it killed the main process; older ones were processes inside
		const killers = pending.filter((t) => event.timeNano - t <= dieWindowMs * 1e6);
		const inside = pending.filter((t) => event.timeNano - t > dieWindowMs * 1e6);
		if (insideFromEvents) countInside(next, inside);
		const userKill = events.some((e) => (e.action === 'kill' || e.action === 'stop') && e.timeNano <= event.timeNano && event.timeNano - e.timeNano <= userKillWindowMs * 1e6);
		if (killers.length > 0 || (event.exitCode === 137 && !userKill)) next.killedAt = iso(event.timeNano);
		pending = [];
		seenUntil = event.timeNano;
	}
	// ooms with no die after them: processes inside, once the window has passed since the last of them
	const decided = pending.length > 0 && nowMs * 1e6 - Math.max(...pending) > dieWindowMs * 1e6 ? pending : [];
	if (insideFromEvents) countInside(next, decided);
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

/** Whether the engine sends no `oom` event, so that a die by SIGKILL is how an OOM kill shows (Podman). */
export const engineSendsNoOom = (api: DockerApi) => isPodman(api.info);

/** The container's `oom`, `die` (with its exit code), `kill` and `stop` events since `sinceMs`, as far as the engine still remembers them. */
export async function pastOomEvents(api: DockerApi, containerId: string, sinceMs: number, nowMs = Date.now()): Promise<OomEvent[]> {
	const text = engineSendsNoOom(api) ? await podmanEvents(api, containerId, sinceMs) : await dockerEvents(api, containerId, sinceMs, nowMs);
	return parseOomEvents(text, containerId);
}

/** The OOM-related events of the container in an events answer (one JSON message a line, as the API and `docker events --format '{{json .}}'` give them). */
export function parseOomEvents(text: string, containerId: string): OomEvent[] {
	const events: OomEvent[] = [];
	for (const line of text.split('\n')) {
		if (!line.trim()) continue;
		const event = JSON.parse(line) as {
			Action?: string;
			status?: string;
			id?: string;
			Actor?: { ID?: string; Attributes?: Record<string, string> };
			timeNano?: number;
			time?: number;
		};
		const raw = event.Action ?? event.status;
		const action = raw === 'died' ? 'die' : raw;
		if (action !== 'oom' && action !== 'die' && action !== 'kill' && action !== 'stop') continue;
		// the engine's `container` filter matches names too: an earlier container of the same name is not this one
		if ((event.Actor?.ID ?? event.id) !== containerId) continue;
		const code = event.Actor?.Attributes?.exitCode ?? event.Actor?.Attributes?.containerExitCode;
		events.push({ action, timeNano: event.timeNano ?? (event.time ?? 0) * 1e9, ...(action === 'die' && code !== undefined ? { exitCode: Number(code) } : {}) });
	}
	return events;
}

/**
 * A time for the events API's `since`/`until`: seconds and nanoseconds ("1796603813.463000000"; the
 * engine reads the part after the dot as nanoseconds, so "….463" would be 463 ns). Docker holds its answer
 * until `until` has passed: the whole second rounded up kept every `server status` waiting 0–1 s (0.95 s
 * measured against 0.03 s), so Docker is asked until now, to the millisecond.
 */
export function eventsApiTime(ms: number): string {
	const whole = Math.floor(ms);
	return `${Math.floor(whole / 1000)}.${String((whole % 1000) * 1e6).padStart(9, '0')}`;
}

async function dockerEvents(api: DockerApi, containerId: string, sinceMs: number, nowMs: number): Promise<string> {
	const query = { since: Math.floor(sinceMs / 1000), until: eventsApiTime(nowMs), filters: { type: ['container'], container: [containerId], event: ['oom', 'die', 'kill', 'stop'] } };
	return api.getText('/events', query, AbortSignal.timeout(5000));
}

/**
 * Podman 4.3's compat events endpoint answers nothing at all when `until` is an absolute time (measured:
 * 0 events, against 22 with a relative one), and without `until` it never ends; its own endpoint ends
 * the answer itself with stream=false. It names the exit code `containerExitCode`.
 */
async function podmanEvents(api: DockerApi, containerId: string, sinceMs: number): Promise<string> {
	const query = { since: Math.floor(sinceMs / 1000), stream: false, filters: { container: [containerId], event: ['died', 'kill', 'stop'] } };
	const response = await rawGet(api.endpoint, versionedPath('4.0.0', '/libpod/events', query), { signal: AbortSignal.timeout(5000), headerTimeoutMs: 5000 });
	const body = (await readAllRaw(response.body)).toString('utf8');
	if (response.status !== 200) throw new Error(`podman events: HTTP ${response.status}`);
	return body;
}
