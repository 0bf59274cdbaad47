// The agent-runner container's logs through the Docker API. The container is found by its labels (not
// its name or id), so a recreated container is the same service. History is one non-following request
// (`tail`, `since`); following is a `follow=1` request from the last time seen, re-attached after every
// restart or recreate (found through /events, with a slow poll as a fallback), with lines at or before
// the cursor dropped: Docker's `since` is inclusive, so nothing is printed twice and nothing is skipped.
import { Readable } from 'node:stream';
import { serviceLabelSelector } from '../contract.js';
import { DockerApi, EngineUnreachableError, abortable, engineStatus, orNull } from '../engine/DockerApi.js';
import { rawError, rawGet, readAll, versionedPath } from '../engine/rawHttp.js';
import { jsonLines } from '../engine/streams.js';
import { errorMessage } from '../errors.js';
import { ContainerLogDecoder } from './LogDecoders.js';
import { dockerSince, type LogLine } from './LogLine.js';
import type { LogNotice } from './LogNotice.js';

function byTime(a: LogLine, b: LogLine): number {
	return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
}

export interface ContainerRef {
	id: string;
	running: boolean;
	tty: boolean;
	startedAt: string;
}

export interface ContainerLogSourceOptions {
	api: DockerApi | null;
	homeHash: string;
	service: string;
	signal: AbortSignal;
	onNotice: (notice: LogNotice) => void;
	/** how often to look again when the events stream is unavailable, and to retry an unreachable engine */
	pollMs?: number;
}

export class ContainerLogSource {
	private api: DockerApi | null;
	/** last time emitted and how many lines had exactly that time (for an inclusive `since`) */
	private cursor: { time: string; count: number } | null = null;
	private wake: (() => void) | null = null;
	private woken = false;
	private readonly pollMs: number;

	constructor(private readonly options: ContainerLogSourceOptions) {
		this.api = options.api;
		this.pollMs = options.pollMs ?? 2000;
	}

	private get filters() {
		const { homeHash, service } = this.options;
		return { label: serviceLabelSelector(homeHash, service) };
	}

	/** The service's container: the running one, else the most recently created; null when there is none. */
	async find(api: DockerApi): Promise<ContainerRef | null> {
		const docker = await api.ready();
		const abortSignal = this.options.signal;
		const list = await docker.listContainers({ all: true, filters: this.filters, abortSignal });
		if (list.length === 0) return null;
		list.sort((a, b) => Number(b.State === 'running') - Number(a.State === 'running') || b.Created - a.Created);
		const inspect = await orNull(docker.getContainer(list[0]!.Id).inspect({ abortSignal }));
		if (!inspect) return null;
		return { id: inspect.Id, running: inspect.State.Running, tty: inspect.Config.Tty === true, startedAt: inspect.State.StartedAt };
	}

	/** Stored lines: the last `tail` (all when undefined) at or after `since`. Reports a missing container or engine. */
	async history(tail: number | undefined, since: string | undefined): Promise<{ lines: LogLine[]; container: ContainerRef | null }> {
		const { service, onNotice } = this.options;
		const api = this.api;
		if (!api) {
			onNotice({ kind: 'engine-unreachable', service });
			return { lines: [], container: null };
		}
		let container: ContainerRef | null;
		try {
			container = await this.find(api);
		} catch (error) {
			if (this.options.signal.aborted) return { lines: [], container: null };
			onNotice({ kind: 'engine-unreachable', service, message: errorMessage(error) });
			return { lines: [], container: null };
		}
		if (!container) {
			onNotice({ kind: 'no-container', service });
			return { lines: [], container: null };
		}
		if (!container.running) onNotice({ kind: 'container-stopped', service, id: container.id });
		if (tail === 0) return { lines: [], container };
		let lines: LogLine[] = [];
		try {
			// Docker's tail counts log messages, and a line longer than 16 KB is several messages: ask for
			// one line more than wanted (the first may be the end of a cut line), and more when lines were joined.
			let ask = tail === undefined ? undefined : tail + 1;
			for (;;) {
				lines = [];
				const res = await this.logs(api, container.id, { follow: false, tail: ask, since });
				const decoder = new ContainerLogDecoder(service, !container.tty);
				for await (const chunk of res as AsyncIterable<Buffer>) decoder.push(chunk, lines);
				decoder.flush(lines);
				if (tail === undefined || ask === undefined) break;
				if (decoder.messages < ask) break; // everything there is
				if (lines.length > tail) {
					lines = lines.slice(lines.length - tail);
					break;
				}
				ask = ask * 2 + (tail + 1 - lines.length) * 64;
			}
			if (tail !== undefined && lines.length > tail) lines = lines.slice(lines.length - tail);
			// a joined long line is complete only after lines of the other stream that came later: put it back
			// at its time (stable, and nearly sorted input makes this linear)
			lines.sort(byTime);
		} catch (error) {
			if (this.options.signal.aborted) return { lines, container };
			if (engineStatus(error) === 404) onNotice({ kind: 'no-container', service });
			else onNotice({ kind: 'engine-unreachable', service, message: errorMessage(error) });
		}
		this.advance(lines);
		return { lines, container };
	}

	/**
	 * The log body as a byte stream, read below dockerode on every endpoint (engine/rawHttp.ts: unchunked
	 * HTTP/1.0, large reads, which a flood needs).
	 */
	private async logs(api: DockerApi, id: string, o: { follow: boolean; tail?: number | undefined; since?: string | undefined }): Promise<Readable> {
		const signal = this.options.signal;
		const docker = await api.ready();
		// no `tail`: all of it
		const query = { stdout: true, stderr: true, timestamps: true, follow: o.follow, ...(o.tail !== undefined ? { tail: o.tail } : {}), ...(o.since ? { since: dockerSince(o.since) } : {}) };
		if (api.apiVersion) {
			const res = await rawGet(api.endpoint, versionedPath(api.apiVersion, `/containers/${id}/logs`, query), { signal, headerTimeoutMs: 30_000 });
			if (res.status >= 400) throw rawError(res.status, await readAll(res.body));
			return res.body;
		}
		const body: unknown = await docker.getContainer(id).logs({ ...query, follow: o.follow as true, abortSignal: signal });
		// without follow, dockerode hands over the whole body at once
		return Buffer.isBuffer(body) ? Readable.from([body]) : abortable(body as Readable, signal);
	}

	private advance(lines: LogLine[]): void {
		for (const line of lines) {
			if (this.cursor && this.cursor.time === line.time) this.cursor.count++;
			else this.cursor = { time: line.time, count: 1 };
		}
	}

	/** Drops the lines at or before the cursor (an inclusive `since` repeats them) and advances it. */
	private fresh(lines: LogLine[]): LogLine[] {
		const cursor = this.cursor;
		let out = lines;
		if (cursor) {
			let skip = cursor.count;
			out = lines.filter((line) => {
				if (line.time < cursor.time && !sameSecondOnSecondStamps(line.time, cursor)) return false;
				if (line.time === cursor.time && skip > 0) {
					skip--;
					return false;
				}
				return true;
			});
		}
		this.advance(out);
		return out;
	}

	private nudge = (): void => {
		this.woken = true;
		const wake = this.wake;
		this.wake = null;
		wake?.();
	};

	private sleep(ms: number): Promise<void> {
		if (this.woken || this.options.signal.aborted) {
			this.woken = false;
			return Promise.resolve();
		}
		return new Promise((resolve) => {
			const done = () => {
				clearTimeout(timer);
				this.options.signal.removeEventListener('abort', done);
				this.wake = null;
				this.woken = false;
				resolve();
			};
			const timer = setTimeout(done, ms);
			this.wake = done;
			this.options.signal.addEventListener('abort', done, { once: true });
		});
	}

	/** Watches start events of this service's containers (restart and recreate) until aborted. */
	private async watchEvents(api: DockerApi): Promise<void> {
		try {
			const signal = this.options.signal;
			const docker = await api.ready();
			const stream = await docker.getEvents({ filters: { type: ['container'], event: ['start'], ...this.filters }, abortSignal: signal });
			for await (const _event of jsonLines(abortable(stream as unknown as Readable, signal))) this.nudge();
		} catch {
			// the poll in follow() covers for a lost events stream
		}
	}

	/**
	 * Follows from `from` (the time history was read, used when history was empty) until the signal
	 * aborts: across restarts (same id) and recreates (new id), and across an engine that goes away and
	 * comes back. `seen` is the container whose history was just read. `sink` may return a promise to
	 * slow the reads down (backpressure).
	 */
	async follow(from: string, seen: ContainerRef | null, sink: (lines: LogLine[]) => Promise<void> | undefined): Promise<void> {
		const { service, signal, onNotice } = this.options;
		if (!this.cursor) this.cursor = { time: from, count: 0 };
		let events: Promise<void> | null = null;
		// the container (id and start) whose stream was read to its end: nothing more comes from it until it starts again
		let done: string | null = seen && !seen.running ? `${seen.id} ${seen.startedAt}` : null;
		let down: string | null = null; // the state last reported (null: following a running container)
		const report = (state: string, notice: LogNotice) => {
			if (down !== state) onNotice(notice);
			down = state;
		};
		while (!signal.aborted) {
			const api = await this.connect();
			if (!api) {
				report('engine', { kind: 'engine-unreachable', service, following: true });
				await this.sleep(this.pollMs);
				continue;
			}
			events ??= this.watchEvents(api).finally(() => {
				events = null;
			});
			let container: ContainerRef | null;
			try {
				container = await this.find(api);
			} catch (error) {
				if (signal.aborted) break;
				report('engine', { kind: 'engine-unreachable', service, message: errorMessage(error), following: true });
				await this.sleep(this.pollMs);
				continue;
			}
			if (!container) {
				report('none', { kind: 'no-container', service, following: true });
				await this.sleep(this.pollMs);
				continue;
			}
			const key = `${container.id} ${container.startedAt}`;
			if (key === done && !container.running) {
				report('stopped', { kind: 'container-stopped', service, id: container.id, following: true });
				await this.sleep(this.pollMs);
				continue;
			}
			// still running after its stream ended: it is stopping, or the connection broke; look again shortly
			if (key === done) await this.sleep(200);
			if (container.running && down !== null) onNotice({ kind: 'container-attached', service, id: container.id });
			if (container.running) down = null;
			await this.stream(api, container, sink);
			done = key;
		}
		await events;
	}

	private async stream(api: DockerApi, container: ContainerRef, sink: (lines: LogLine[]) => Promise<void> | undefined): Promise<void> {
		const { service, signal, onNotice } = this.options;
		const decoder = new ContainerLogDecoder(service, !container.tty);
		try {
			const res = await this.logs(api, container.id, { follow: true, since: this.cursor?.time });
			for await (const chunk of res as AsyncIterable<Buffer>) {
				const lines = this.fresh(decoder.push(chunk));
				if (lines.length > 0) await sink(lines);
			}
			const rest = this.fresh(decoder.flush());
			if (rest.length > 0) await sink(rest);
		} catch (error) {
			if (signal.aborted) return;
			if (engineStatus(error) === undefined) onNotice({ kind: 'engine-unreachable', service, message: errorMessage(error), following: true });
		}
	}

	private async connect(): Promise<DockerApi | null> {
		if (this.api) return this.api;
		try {
			this.api = await DockerApi.connect(process.env, 2000);
			return this.api;
		} catch (error) {
			if (error instanceof EngineUnreachableError) return null;
			throw error;
		}
	}
}

/**
 * Podman (4.3 and 5.4) stamps container lines to the second: a line written after the follow began
 * (the cursor is then that moment, with no line seen at it) but within the same second reads as older
 * than it, and was dropped — `logs -f -n 0` started just before its container never showed the
 * container's first lines. Such a line is no older than the cursor's second: kept (on those engines
 * `-n 0` may so show a line of the second before it began).
 */
function sameSecondOnSecondStamps(time: string, cursor: { time: string; count: number }): boolean {
	return cursor.count === 0 && time.endsWith('.000000000Z') && time.slice(0, 19) === cursor.time.slice(0, 19);
}
