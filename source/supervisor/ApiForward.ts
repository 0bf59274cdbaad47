// The CLI's path to the agent-runner's API when the engine is remote (docs/architecture.md, "Remote
// engines"). The API is not published there: this forward listens on this machine's 127.0.0.1:<port>
// and, for each connection, runs the API bridge in the container through the engine's exec (stdin and
// stdout on one hijacked connection: the bytes travel over the engine connection, ssh or TLS), so
// `stigmer run`, `executions`, the dashboard's feed and the readiness probe keep using
// http://127.0.0.1:<port> unchanged. The supervisor owns it, as it owns the LLM forward.
//
// A bridge is started ahead (one spare, idle in the container until its first bytes), so a new
// connection does not wait for an exec and a Python start: the spare is made after each connection
// that found the runner, never in a loop. When no bridge can be made (the container is gone or stopped,
// the engine refuses the exec) or the bridge cannot reach the runner, an HTTP client is answered 502
// with the reason in the API's error shape ({"error": …}); anything else is closed.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { containerPaths } from '../contract.js';
import { DockerApi, engineMessage, engineStatus } from '../engine/DockerApi.js';
import type { Endpoint } from '../engine/endpoint.js';
import { errorMessage } from '../errors.js';
import { badGateway, httpAnswerStart, refuseHttp } from './refuseHttp.js';

export interface ApiForwardSpec {
	/** the port on this machine's 127.0.0.1 (agentRunner.port) */
	port: number;
	/** the agent-runner container's name */
	container: string;
	/** the engine, as the CLI resolved it */
	endpoint: Endpoint;
	/** uid:gid the bridge runs as in the container (no capability) */
	user: string;
}

export interface ApiForwardStatus {
	port: number;
	container: string;
	/** `listening` on 127.0.0.1:port; `failed`: that port could not be had (see error) */
	mode: 'listening' | 'failed';
	/** connections accepted, and those that found no way to the runner */
	accepted: number;
	failed: number;
	error?: string;
	/** the last reason a connection found no way to the runner */
	lastFailure?: string;
}

interface Bridge {
	stream: Duplex;
	/** the exec's connection ended (the bridge exited, or the container went away) */
	ended: boolean;
}

/** The spare bridge, made ahead: `made` is the bridge once it is made (one that failed is dropped). */
interface Spare {
	bridge: Promise<Bridge>;
	made?: Bridge;
}

/** The engine's 8-byte frame headers (stream type, size) of a non-TTY exec, cut back into bytes. */
export class StdioFrames {
	private pending: Buffer = Buffer.alloc(0);

	/** The payloads in `chunk` (with what earlier chunks left), as [stream, bytes]: 1 stdout, 2 stderr. */
	push(chunk: Buffer): Array<[number, Buffer]> {
		let buffer = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
		const out: Array<[number, Buffer]> = [];
		while (buffer.length >= 8) {
			const size = buffer.readUInt32BE(4);
			if (buffer.length < 8 + size) break;
			out.push([buffer[0]!, buffer.subarray(8, 8 + size)]);
			buffer = buffer.subarray(8 + size);
		}
		this.pending = buffer;
		return out;
	}
}

/** Bytes of a request kept until the first answer, to hand them to a fresh bridge when a spare was dead. */
const replayLimit = 1 << 20;

export class ApiForward {
	private server: net.Server | null = null;
	private api: DockerApi | null = null;
	private spare: Spare | null = null;
	private readonly streams = new Set<Duplex | net.Socket>();
	private closed = false;
	private state: ApiForwardStatus;

	private constructor(readonly spec: ApiForwardSpec) {
		this.state = { port: spec.port, container: spec.container, mode: 'listening', accepted: 0, failed: 0 };
	}

	/** Listens on 127.0.0.1:spec.port; the status says `failed` (with the reason) when the port is taken. */
	static async open(spec: ApiForwardSpec): Promise<ApiForward> {
		const forward = new ApiForward(spec);
		const server = net.createServer({ noDelay: true }, (socket) => forward.accept(socket));
		const code = await new Promise<string | null>((resolve) => {
			server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
			server.listen({ host: '127.0.0.1', port: spec.port }, () => resolve(null));
		});
		if (code !== null) {
			forward.state = {
				...forward.state,
				mode: 'failed',
				error: code === 'EADDRINUSE' ? `port ${spec.port} on 127.0.0.1 is taken by another program` : `cannot listen on 127.0.0.1:${spec.port} (${code})`,
			};
			return forward;
		}
		server.removeAllListeners('error');
		server.on('error', () => {});
		forward.server = server;
		return forward;
	}

	status(): ApiForwardStatus {
		return { ...this.state };
	}

	sameSpec(spec: ApiForwardSpec): boolean {
		return this.spec.port === spec.port && this.spec.container === spec.container && this.spec.user === spec.user && JSON.stringify(this.spec.endpoint) === JSON.stringify(spec.endpoint);
	}

	async close(): Promise<void> {
		this.closed = true;
		for (const stream of this.streams) stream.destroy();
		this.spare?.bridge.then((b) => b.stream.destroy()).catch(() => {});
		this.spare = null;
		const server = this.server;
		this.server = null;
		if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
		this.api?.close();
		this.api = null;
	}

	private async engine(): Promise<DockerApi> {
		if (!this.api) {
			const api = new DockerApi(this.spec.endpoint);
			await api.negotiate(10_000);
			this.api = api;
		}
		return this.api;
	}

	/** A new bridge in the container: the exec is made and started (hijacked), the bridge waits for bytes. */
	private async startBridge(): Promise<Bridge> {
		const api = await this.engine();
		const { stream } = await api.execAttached(this.spec.container, ['python3', '-I', '-S', containerPaths.apiBridge], { user: this.spec.user });
		const bridge: Bridge = { stream, ended: false };
		const ended = () => (bridge.ended = true);
		stream.once('end', ended);
		stream.once('close', ended);
		stream.on('error', ended);
		this.streams.add(stream);
		stream.once('close', () => this.streams.delete(stream));
		return bridge;
	}

	/**
	 * The spare when it is made and alive (`spare: true`), else a new bridge. A spare still being made
	 * (the engine is slow, or the container went away meanwhile) is not waited for alone: a new bridge
	 * is started beside it and the first one made is used, the other kept as the next spare. The new
	 * one's refusal answers at once: a container gone or stopped is the engine's answer now, where the
	 * spare's exec, begun before, may hang on (CI's Podman at load 10 took over 10 s, the CLI's limit).
	 */
	private async takeBridge(): Promise<{ bridge: Bridge; spare: boolean }> {
		const spare = this.spare;
		this.spare = null;
		if (spare?.made && !spare.made.ended) return { bridge: spare.made, spare: true };
		spare?.made?.stream.destroy();
		if (!spare || spare.made) return { bridge: await this.startBridge(), spare: false };
		const fresh = this.startBridge();
		fresh.catch(() => {});
		const first = await Promise.race([
			fresh.then((bridge) => ({ bridge, spare: false })),
			spare.bridge.then(
				(bridge) => ({ bridge, spare: true }),
				() => fresh.then((bridge) => ({ bridge, spare: false })),
			),
		]).catch((error: unknown) => {
			this.keepSpare(spare.bridge);
			throw error;
		});
		this.keepSpare(first.spare ? fresh : spare.bridge);
		return first;
	}

	/**
	 * `bridge` as the spare when there is none, else it is ended. One that fails is dropped (the next
	 * connection starts its own, and warms a spare again if the runner answers it): the container went.
	 */
	private keepSpare(bridge: Promise<Bridge>): void {
		if (this.closed || this.spare) {
			bridge.then((b) => b.stream.destroy()).catch(() => {});
			return;
		}
		const spare: Spare = { bridge };
		bridge.then(
			(b) => (spare.made = b),
			() => {
				if (this.spare === spare) this.spare = null;
			},
		);
		this.spare = spare;
	}

	private warmSpare(): void {
		if (this.closed || this.spare) return;
		this.keepSpare(this.startBridge());
	}

	private accept(client: net.Socket): void {
		this.state.accepted += 1;
		client.on('error', () => {});
		client.pause();
		this.streams.add(client);
		client.once('close', () => this.streams.delete(client));
		this.takeBridge().then(
			({ bridge, spare }) => this.wire(client, bridge, { retry: spare, replay: [], clientEnded: false }),
			(error: unknown) => this.refuse(client, bridgeFailure(error, this.spec.container)),
		);
	}

	/**
	 * Bytes both ways, with back-pressure; a bridge that could not reach the runner is answered 502. Until
	 * the first answer the client's bytes are kept (up to replayLimit), so that a spare found dead only
	 * once it was used (its container restarted meanwhile: it ends without a word) is replaced, once, by a
	 * fresh bridge that gets the same bytes.
	 */
	private wire(client: net.Socket, bridge: Bridge, attempt: { retry: boolean; replay: Buffer[]; clientEnded: boolean }): void {
		const { stream } = bridge;
		if (client.destroyed) {
			// the client left while the bridge started: keep it as the spare
			if (!bridge.ended && attempt.replay.length === 0) this.keepSpare(Promise.resolve(bridge));
			else stream.destroy();
			return;
		}
		const frames = new StdioFrames();
		let answered = false;
		let stderr = '';
		// the answer's first bytes, held until they show an HTTP response: an engine whose exec failed
		// after the hijack (the container removed or stopped meanwhile) writes its error as a stdout frame
		// ("Container … is not running"); passed on, the client read it as the runner's answer
		let head: Buffer | null = Buffer.alloc(0);
		let engineSaid = '';
		let kept = attempt.replay.reduce((n, b) => n + b.length, 0);
		let replay: Buffer[] | null = attempt.retry ? attempt.replay : null;
		let clientEnded = attempt.clientEnded;
		stream.on('data', (chunk: Buffer) => {
			for (const [kind, frame] of frames.push(chunk)) {
				let bytes = frame;
				if (kind === 1) {
					if (!answered) {
						if (!head) continue; // not an answer: the bridge is being ended
						const first = Buffer.concat([head, frame]);
						const verdict = httpAnswerStart(first);
						if (verdict === 'wait') {
							head = first;
							continue;
						}
						if (verdict === 'no') {
							head = null;
							engineSaid = first.toString('utf8', 0, 512).trim();
							stream.destroy();
							continue;
						}
						answered = true;
						replay = null;
						bytes = first;
						this.warmSpare(); // the runner answered: the next connection will want a bridge too
					}
					if (!client.write(bytes)) stream.pause();
				} else if (kind === 2 && stderr.length < 4096) stderr += bytes.toString('utf8');
			}
		});
		const onDrain = () => stream.resume();
		const onData = (chunk: Buffer) => {
			if (replay) {
				kept += chunk.length;
				if (kept <= replayLimit) replay.push(chunk);
				else replay = null;
			}
			if (!stream.write(chunk)) client.pause();
		};
		const onEnd = () => {
			clientEnded = true;
			stream.end();
		};
		const onClose = () => stream.destroy();
		client.on('drain', onDrain);
		client.on('data', onData);
		client.once('end', onEnd);
		client.once('close', onClose);
		stream.on('drain', () => client.resume());
		for (const chunk of attempt.replay) stream.write(chunk);
		if (clientEnded) stream.end();
		let finished = false;
		const finish = () => {
			if (finished) return;
			finished = true;
			if (answered || client.destroyed) {
				client.end();
				return;
			}
			if (replay && !stderr.trim()) {
				// a dead spare: the same bytes to a fresh bridge (once)
				client.off('drain', onDrain).off('data', onData).off('end', onEnd).off('close', onClose);
				client.pause();
				const bytes = replay;
				this.startBridge().then(
					(fresh) => this.wire(client, fresh, { retry: false, replay: bytes, clientEnded }),
					(error: unknown) => this.refuse(client, bridgeFailure(error, this.spec.container), bytes.length > 0),
				);
				return;
			}
			const why = stderr.trim() || (engineSaid ? `the container engine ended its API bridge: ${engineSaid}` : 'the API bridge ended without an answer');
			this.refuse(client, `not answering: ${why}`, true);
		};
		stream.once('end', finish);
		stream.once('close', finish);
		stream.on('error', () => {});
		client.resume();
	}

	/**
	 * No way to the runner. An HTTP client is answered 502 with the reason in the API's error shape, so
	 * `stigmer run` and the dashboard show it; anything else is closed. `seen`: the request was already
	 * read by the bridge (its first bytes are not waited for).
	 */
	private refuse(client: net.Socket, reason: string, seen = false): void {
		this.state.failed += 1;
		this.state.lastFailure = reason;
		const body = JSON.stringify({ error: reason, type: 'stigmer_api_forward' });
		if (seen) client.end(badGateway(body));
		else refuseHttp(client, body);
	}
}

/**
 * Why no bridge could be made, as a user reads it after the client's `agent-runner: ` (the 502's `error`;
 * its `type` is `stigmer_api_forward`).
 */
export function bridgeFailure(error: unknown, container: string): string {
	const status = engineStatus(error);
	if (status === 404) return `not running: its container ${container} does not exist (start it with \`stigmer server start\`)`;
	if (status === 409) return `not running: its container ${container} is stopped (start it with \`stigmer server start\`)`;
	const message = status === undefined ? errorMessage(error) : engineMessage(error);
	return `not reachable through the container engine: the exec of its API bridge failed (${message})`;
}
