// The log source of stigmer: every service's logs, merged in time order, optionally followed. Used by
// `stigmer server logs` and by the dashboard; it knows nothing about output formats or terminals.
//
//   for await (const batch of readLogs({ api, home, services, tail: 100, follow: true, signal, onNotice })) {
//     for (const { service, stream, time, line } of batch) …
//   }
//
// - `api`: a connected DockerApi, or null when the engine is unreachable (history then has no container
//   lines; with `follow` the source keeps trying to connect every 2 s and picks the container up).
// - `services`: which services to read: `agentRunnerService` is read from its container (found by labels,
//   so restarts and recreates are followed), every other name from `home.logFile(name)` (+ `.1`…`.3`).
// - `tail`: the last N lines of EACH service (undefined: all); `since`: a normalised time (see
//   parseSince) — only lines at or after it.
// - Yields batches (arrays) of lines. First the stored lines of all services, merged in time order
//   (a k-way merge that keeps each service's own order), in batches of at most `historyBatch` lines;
//   then, with `follow`, live lines: held for a reorder window of `windowMs` (default 30 ms) and released
//   as one batch sorted by time. A late line (older than one already released) is still delivered,
//   out of order rather than lost. The consumer sets the pace: while it does not take batches, at most
//   ~20,000 lines wait and the sources stop reading (the engine and the files keep the rest).
// - Ends when the history is delivered (no `follow`) or when `signal` aborts (`follow`); then every
//   stream, watcher and timer is closed. Aborting never throws.
// - `onNotice` reports what is not a line: no container, container stopped, engine unreachable,
//   (re)attached, no log file, rotation, truncation (see LogNotice).
import { agentRunnerService } from '../contract.js';
import type { DockerApi } from '../engine/DockerApi.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { ContainerLogSource, type ContainerRef } from './ContainerLogSource.js';
import { timeFromMs, type LogLine } from './LogLine.js';
import type { LogNotice } from './LogNotice.js';
import { LiveMerge, mergeByTime } from './mergeByTime.js';
import { NativeLogSource } from './NativeLogSource.js';

export type { LogLine, LogStream } from './LogLine.js';
export type { LogNotice } from './LogNotice.js';
export { parseSince } from './parseSince.js';
export { timeMs } from './LogLine.js';

export interface ReadLogsOptions {
	api: DockerApi | null;
	home: Pick<StigmerHome, 'hash' | 'logFile'>;
	services: readonly string[];
	tail?: number | undefined;
	since?: string | undefined;
	follow?: boolean;
	signal?: AbortSignal;
	onNotice?: (notice: LogNotice) => void;
	windowMs?: number;
	historyBatch?: number;
	/** how often to retry the engine / look for the container when events are unavailable (ms) */
	pollMs?: number;
	/** natives' log files, followed: while lines keep coming, the least time between two reads (NativeLogSource) */
	paceMs?: number;
}

export async function* readLogs(options: ReadLogsOptions): AsyncGenerator<LogLine[]> {
	const { services, tail, since, follow = false, onNotice = () => undefined } = options;
	const controller = new AbortController();
	const outer = options.signal;
	const abort = () => controller.abort();
	if (outer?.aborted) return;
	outer?.addEventListener('abort', abort, { once: true });
	const signal = controller.signal;
	const startedAt = timeFromMs(Date.now());

	const containers = new Map<string, ContainerLogSource>();
	const natives = new Map<string, NativeLogSource>();
	for (const service of services) {
		if (service === agentRunnerService) {
			containers.set(service, new ContainerLogSource({ api: options.api, homeHash: options.home.hash, service, signal, onNotice, pollMs: options.pollMs }));
		} else {
			natives.set(
				service,
				new NativeLogSource({
					file: options.home.logFile(service),
					service,
					signal,
					onNotice,
					pollMs: options.pollMs !== undefined ? Math.min(options.pollMs, 1000) : undefined,
					paceMs: options.paceMs,
				}),
			);
		}
	}
	const seen = new Map<string, ContainerRef | null>();
	const followers: Promise<void>[] = [];
	try {
		const histories = await Promise.all(
			services.map(async (service) => {
				const container = containers.get(service);
				if (container) {
					const { lines, container: ref } = await container.history(tail, since);
					seen.set(service, ref);
					return lines;
				}
				return natives.get(service)!.history(tail, since, follow);
			}),
		);
		const merged = mergeByTime(histories);
		histories.length = 0;
		const size = options.historyBatch ?? 8192;
		for (let i = 0; i < merged.length; i += size) {
			if (signal.aborted) return;
			yield i === 0 && merged.length <= size ? merged : merged.slice(i, i + size);
		}
		if (!follow || signal.aborted) return;

		const live = new LiveMerge({ windowMs: options.windowMs });
		const sink = (lines: LogLine[]) => live.push(lines);
		for (const [service, source] of containers) followers.push(source.follow(startedAt, seen.get(service) ?? null, sink));
		for (const source of natives.values()) followers.push(source.follow(sink));
		signal.addEventListener('abort', () => live.end(), { once: true });
		// a follower that fails for good ends the whole read with its error
		const failed = Promise.all(followers).catch((error: unknown) => {
			live.end();
			throw error;
		});
		failed.catch(() => undefined);
		for await (const batch of live) yield batch;
		if (!signal.aborted) await failed;
	} finally {
		outer?.removeEventListener('abort', abort);
		controller.abort();
		await Promise.allSettled(followers);
		await Promise.allSettled([...natives.values()].map((source) => source.close()));
	}
}
