// The fast path of `stigmer server logs` without -f and --json when the container is the only service
// with stored lines (the natives have no log file): the same output as readLogs + LogFormatter, sooner.
// - Start-up: the engine's API version (GET /_ping, and /version when needed) is asked for at once, before
//   the config is read, and every later request speaks the version negotiated from it (apiVersion.ts, as DockerApi does; an
//   engine with a raised minimum, like Docker 29's 1.44, refuses any fixed old one). The logs request goes
//   out concurrently with the inspect that says whether the container has a TTY. dockerode is not loaded.
// - Body: HTTP/1.0 on a fresh engine connection (engine/rawHttp.ts: unchunked, large reads); each frame is turned into output bytes
//   directly (`SERVICE | text\n`), without a LogLine or a string per line, while the engine streams.
// - Anything unusual (times out of order, a line cut into several messages, no trailing newline, a TTY,
//   a timestamp of another shape, more lines than asked for) makes ContainerTextEncoder give up; the
//   saved body is then decoded by ContainerLogDecoder exactly as ContainerLogSource.history() does.
//   When even that needs another request (joined long lines with -n), or on any engine error, the
//   result is null and the caller takes the general path (readLogs), which reports errors properly.
import { serviceLabelSelector } from '../contract.js';
import { chooseApiVersion, maxApiVersion, needsVersionRange, newerThanMax, type EngineVersionRange } from '../engine/apiVersion.js';
import { resolveEndpoint, type Endpoint } from '../engine/endpoint.js';
import { rawGet, versionedPath } from '../engine/rawHttp.js';
import { sanitizeForTerminal } from '../terminal/sanitizeForTerminal.js';
import { ContainerLogDecoder } from './LogDecoders.js';
import type { LogFormatter } from './LogFormatter.js';
import { dockerSince, type LogLine } from './LogLine.js';
import type { LogNotice } from './LogNotice.js';

const outputChunk = 1024 * 1024;

/**
 * Multiplexed container logs requested with `timestamps=1` → the text of `server logs` (one service):
 * `prefix [time ]text\n` per line, in large Buffers. `failed` once the input is not the plain case.
 */
export class ContainerTextEncoder {
	/** log messages seen (one per line while not failed) */
	messages = 0;
	failed = false;
	private pending: Buffer | null = null;
	private readonly previous = Buffer.alloc(30);
	private readonly done: Buffer[] = [];
	private buffer = Buffer.allocUnsafeSlow(outputChunk);
	private used = 0;
	/** where the first line's output ends in the first output buffer */
	private firstEnd = 0;

	constructor(
		private readonly prefix: Buffer,
		private readonly timestamps: boolean,
		private readonly color: boolean,
	) {}

	push(chunk: Buffer): void {
		if (this.failed) return;
		let offset = 0;
		// a frame cut by the previous read: complete it from this chunk
		while (this.pending) {
			const part = this.pending;
			const want = part.length < 8 ? 8 : 8 + part.readUInt32BE(4);
			const take = Math.min(want - part.length, chunk.length - offset);
			const joined = take > 0 ? Buffer.concat([part, chunk.subarray(offset, offset + take)]) : part;
			offset += take;
			this.pending = joined;
			if (joined.length < want) return;
			if (want === 8) continue;
			this.pending = null;
			this.message(joined, 8, want);
			if (this.failed) return;
		}
		while (chunk.length - offset >= 8) {
			const end = offset + 8 + chunk.readUInt32BE(offset + 4);
			if (end > chunk.length) break;
			this.message(chunk, offset + 8, end);
			if (this.failed) return;
			offset = end;
		}
		if (offset < chunk.length) this.pending = chunk.subarray(offset);
	}

	/** The output: the last `tail` lines (all when undefined), or null when failed. */
	result(tail: number | undefined): Buffer[] | null {
		if (this.failed) return null;
		const out = [...this.done, this.buffer.subarray(0, this.used)];
		if (tail !== undefined && this.messages > tail) {
			if (this.messages > tail + 1) return null;
			out[0] = out[0]!.subarray(this.firstEnd);
		}
		return out.filter((b) => b.length > 0);
	}

	/** `2026-01-22T10:00:00.123456789Z text\n`, and not before the previous message */
	private checkTime(b: Buffer, start: number, end: number): void {
		if (end - start < 32 || b[start + 30] !== 0x20 || b[start + 29] !== 0x5a || b[start + 10] !== 0x54) {
			this.failed = true;
			return;
		}
		const previous = this.previous;
		for (let i = 0; i < 30; i++) {
			const c = b[start + i]!;
			if (c !== previous[i]) {
				if (c < previous[i]!)
					this.failed = true; // out of order: the general path sorts
				else for (; i < 30; i++) previous[i] = b[start + i]!;
				return;
			}
		}
	}

	private message(b: Buffer, start: number, end: number): void {
		this.messages++;
		if (b[end - 1] !== 0x0a) {
			this.failed = true; // a line cut into several messages, or the last one without a newline
			return;
		}
		this.checkTime(b, start, end);
		if (this.failed) return;
		const textStart = start + 31;
		let textEnd = end - 1;
		if (textEnd > textStart && b[textEnd - 1] === 0x0d) textEnd--;
		const prefix = this.prefix;
		const need = prefix.length + 31 + 3 * (textEnd - textStart) + 1;
		if (this.used + need > this.buffer.length) {
			if (this.used > 0) this.done.push(this.buffer.subarray(0, this.used));
			this.buffer = Buffer.allocUnsafeSlow(Math.max(outputChunk, need));
			this.used = 0;
		}
		const out = this.buffer;
		let o = this.used;
		for (let i = 0; i < prefix.length; i++) out[o++] = prefix[i]!;
		if (this.timestamps) for (let i = start; i < textStart; i++) out[o++] = b[i]!;
		const lineStart = o;
		let i = textStart;
		for (; i < textEnd; i++) {
			const c = b[i]!;
			if (c < 0x20 ? c !== 0x09 : c >= 0x7f) break; // printable ASCII and TAB pass as they are
			out[o++] = c;
		}
		if (i < textEnd) {
			// not printable ASCII: as LogFormatter does it (U+FFFD for invalid bytes, then the terminal
			// sanitiser; its output is at most 3 bytes per input byte, as `need` assumes)
			const newline = b.indexOf(0x0a, i);
			if (newline !== -1 && newline < textEnd) {
				this.failed = true; // several lines in one message
				return;
			}
			const text = sanitizeForTerminal(b.toString('utf8', textStart, textEnd), this.color);
			o = lineStart + out.write(text, lineStart, 'utf8');
		}
		out[o++] = 0x0a;
		this.used = o;
		if (this.messages === 1) this.firstEnd = o;
	}
}

interface Response {
	status: number;
	body: Buffer;
}

/**
 * A GET on a fresh connection (engine/rawHttp.ts). With `onBody`, a successful body is handed over chunk
 * by chunk as it arrives (the response then has an empty body); an error body is always collected.
 */
async function get(endpoint: Endpoint, path: string, signal: AbortSignal, onBody?: (chunk: Buffer) => void): Promise<Response> {
	const res = await rawGet(endpoint, path, { signal, headerTimeoutMs: 3000 });
	const body: Buffer[] = [];
	for await (const chunk of res.body as AsyncIterable<Buffer>) {
		if (onBody && res.status < 400) onBody(chunk);
		else body.push(chunk);
	}
	return { status: res.status, body: Buffer.concat(body) };
}

async function getJson<T>(endpoint: Endpoint, path: string, signal: AbortSignal): Promise<T | null> {
	const res = await get(endpoint, path, signal);
	if (res.status === 404) return null;
	if (res.status >= 400) throw new Error(`HTTP ${res.status}`);
	return JSON.parse(res.body.toString('utf8')) as T;
}

/** As DockerApi.negotiate(), on the raw wire: /_ping's Api-Version header (a versioned /_ping for an engine newer than us), /version only when that is not enough. */
async function negotiate(endpoint: Endpoint, signal: AbortSignal): Promise<string> {
	const ping = await rawGet(endpoint, '/_ping', { signal, headerTimeoutMs: 3000 });
	ping.body.resume();
	const engineMax = ping.headers['api-version'] ?? '';
	if (ping.status < 400 && !needsVersionRange(engineMax)) return chooseApiVersion({ ApiVersion: engineMax });
	if (ping.status < 400 && newerThanMax(engineMax)) {
		const versioned = await rawGet(endpoint, `/v${maxApiVersion}/_ping`, { signal, headerTimeoutMs: 3000 });
		versioned.body.resume();
		if (versioned.status < 400) return maxApiVersion;
	}
	// throws for an engine too old (the general path then says so)
	return chooseApiVersion((await getJson<EngineVersionRange>(endpoint, '/version', signal)) ?? {});
}

export interface ContainerLookup {
	endpoint: Endpoint;
	/** the service's container (running first, then the newest) and the negotiated API version; null when there is none */
	container: Promise<{ id: string; apiVersion: string } | null>;
	abort(): void;
}

/**
 * Starts looking the container up at once (before the config is read, say). Null when the endpoint
 * cannot be resolved. The promise rejects on any error.
 */
export function lookUpContainer(homeHash: string, service: string): ContainerLookup | null {
	let endpoint: Endpoint;
	try {
		endpoint = resolveEndpoint(process.env);
	} catch {
		return null;
	}
	const plain = endpoint;
	const controller = new AbortController();
	const signal = controller.signal;
	const filters = { label: serviceLabelSelector(homeHash, service) };
	const container = (async () => {
		const apiVersion = await negotiate(plain, signal);
		const list = await getJson<{ Id: string; State: string; Created: number }[]>(plain, versionedPath(apiVersion, '/containers/json', { all: true, filters }), signal);
		if (!list) throw new Error('no container list');
		if (list.length === 0) return null;
		list.sort((a, b) => Number(b.State === 'running') - Number(a.State === 'running') || b.Created - a.Created);
		return { id: list[0]!.Id, apiVersion };
	})();
	container.catch(() => undefined);
	return { endpoint: plain, container, abort: () => controller.abort() };
}

export interface ContainerTextHistoryOptions {
	service: string;
	tail: number | undefined;
	since: string | undefined;
	timestamps: boolean;
	color: boolean;
	formatter: LogFormatter;
	signal: AbortSignal;
}

function byTime(a: LogLine, b: LogLine): number {
	return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
}

/** The formatted history of the container, or null when the general path must do it. */
export async function containerTextHistory(lookup: ContainerLookup, o: ContainerTextHistoryOptions): Promise<{ output: (Buffer | string)[]; notices: LogNotice[] } | null> {
	const { service, tail, signal } = o;
	const controller = new AbortController();
	const abort = () => controller.abort();
	signal.addEventListener('abort', abort, { once: true });
	try {
		const found = await lookup.container;
		if (!found) return { output: [], notices: [{ kind: 'no-container', service }] };
		const ask = tail === undefined ? undefined : tail + 1;
		const chunks: Buffer[] = [];
		let encoder: ContainerTextEncoder | null = null;
		// with times even without --timestamps: lines are put in time order as readLogs does (stdout and
		// stderr may be stamped slightly out of order)
		const query = { stdout: 1, stderr: 1, timestamps: 1, tail: ask ?? 'all', since: o.since ? dockerSince(o.since) : undefined };
		const logs =
			tail === 0
				? null
				: get(lookup.endpoint, versionedPath(found.apiVersion, `/containers/${found.id}/logs`, query), controller.signal, (chunk) => {
						chunks.push(chunk);
						encoder?.push(chunk);
					});
		logs?.catch(() => undefined);
		const inspect = await getJson<{ Id: string; Config: { Tty?: boolean }; State: { Running: boolean } }>(
			lookup.endpoint,
			versionedPath(found.apiVersion, `/containers/${found.id}/json`),
			controller.signal,
		);
		if (!inspect) return null;
		const notices: LogNotice[] = inspect.State.Running ? [] : [{ kind: 'container-stopped', service, id: inspect.Id }];
		if (!logs) return { output: [], notices };
		const multiplexed = inspect.Config.Tty !== true;
		if (multiplexed) {
			encoder = new ContainerTextEncoder(Buffer.from(o.formatter.prefixOf(service)), o.timestamps, o.color);
			for (const chunk of chunks) encoder.push(chunk);
		}
		const res = await logs;
		if (res.status >= 400) return null;
		const fast = encoder?.result(tail);
		if (fast) return { output: fast, notices };
		// as ContainerLogSource.history(): decode, keep the last `tail`, sort
		const decoder = new ContainerLogDecoder(service, multiplexed);
		let lines: LogLine[] = [];
		for (const chunk of chunks) decoder.push(chunk, lines);
		decoder.flush(lines);
		if (tail !== undefined && ask !== undefined) {
			if (decoder.messages >= ask && lines.length <= tail) return null; // lines were joined: ask for more
			if (lines.length > tail) lines = lines.slice(lines.length - tail);
		}
		lines.sort(byTime);
		return { output: [o.formatter.formatBatch(lines)], notices };
	} catch {
		return null;
	} finally {
		signal.removeEventListener('abort', abort);
		controller.abort();
	}
}
