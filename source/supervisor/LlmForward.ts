// The agent-runner's one path to an LLM server on the host's loopback (Ollama's default). The container
// sits on its home's own bridge network and cannot reach the host's 127.0.0.1; this forward listens on
// that network's gateway address (a host address that only containers can route to), accepts only
// connections from the network's subnet, and pipes each one, byte for byte, to the LLM's loopback port.
// The supervisor owns it (it outlives every CLI command) and closes it with the stack.
import net from 'node:net';
import { probeTcp } from './readiness.js';
import { refuseHttp } from './refuseHttp.js';

export interface LlmForwardSpec {
	/** address to listen on: the home network's gateway */
	listenHost: string;
	/** preferred port: the LLM's own, so the container's URL keeps the port the user configured */
	port: number;
	/** the LLM on the host's loopback */
	targetHost: string;
	targetPort: number;
	/** IPv4 CIDR allowed to connect (the home network's subnet); anything else is closed at once */
	allow?: string;
}

export interface LlmForwardStatus extends LlmForwardSpec {
	/**
	 * `forward`: listening on listenHost:boundPort. `direct`: that address:port was taken by a listener
	 * that answers there (the LLM listens on every interface), so the container reaches it without us.
	 * `pending`: the address does not exist yet (Podman creates a network's bridge with its first
	 * container); the listener is retried until it does. `failed`: no way found (see error).
	 */
	mode: 'forward' | 'direct' | 'pending' | 'failed';
	/** the port the container uses */
	boundPort: number;
	/** connections accepted / refused by the source filter, since the forward opened */
	accepted: number;
	refused: number;
	error?: string;
}

const pendingRetryMs = 100;
const pendingGiveUpMs = 120_000;

export class LlmForward {
	private server: net.Server | null = null;
	private readonly sockets = new Set<net.Socket>();
	private retry: NodeJS.Timeout | null = null;
	private closed = false;
	private state: LlmForwardStatus;

	private constructor(
		readonly spec: LlmForwardSpec,
		private readonly onChange: () => void,
	) {
		this.state = { ...spec, mode: 'pending', boundPort: spec.port, accepted: 0, refused: 0 };
	}

	/** Listens on spec.listenHost:spec.port, or says how the container reaches the LLM otherwise. */
	static async open(spec: LlmForwardSpec, onChange: () => void = () => {}): Promise<LlmForward> {
		const forward = new LlmForward(spec, onChange);
		await forward.bind(Date.now() + pendingGiveUpMs);
		return forward;
	}

	status(): LlmForwardStatus {
		return { ...this.state };
	}

	sameSpec(spec: LlmForwardSpec): boolean {
		const a = this.spec;
		return a.listenHost === spec.listenHost && a.port === spec.port && a.targetHost === spec.targetHost && a.targetPort === spec.targetPort && a.allow === spec.allow;
	}

	async close(): Promise<void> {
		this.closed = true;
		if (this.retry) clearTimeout(this.retry);
		for (const socket of this.sockets) socket.destroy();
		const server = this.server;
		this.server = null;
		if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
	}

	private async bind(giveUpAt: number): Promise<void> {
		const { listenHost, port } = this.spec;
		const first = await this.listen(port);
		if (first === null) return;
		if (first === 'EADDRNOTAVAIL' && Date.now() < giveUpAt && !this.closed) {
			this.state = { ...this.state, mode: 'pending', error: `${listenHost} is not an address of this host yet` };
			this.retry = setTimeout(() => void this.bind(giveUpAt), pendingRetryMs);
			this.retry.unref();
			return;
		}
		// Taken on that address: most often the LLM itself listens on every interface, and then the
		// container reaches it there directly.
		if (first === 'EADDRINUSE' && (await probeTcp(port, listenHost))) {
			this.state = { ...this.state, mode: 'direct', boundPort: port };
			return;
		}
		// Anything else (taken by another program, a privileged port): a port of the system's choosing.
		const fallback = await this.listen(0);
		if (fallback !== null) this.state = { ...this.state, mode: 'failed', error: `cannot listen on ${listenHost}:${port} (${first}) nor on another port (${fallback})` };
	}

	/** null once listening; otherwise the error code. */
	private listen(port: number): Promise<string | null> {
		// no Nagle delay on either side: a request written in two pieces waited for a delayed ACK (+6 ms)
		const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
		return new Promise((resolve) => {
			server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
			server.listen({ host: this.spec.listenHost, port }, () => {
				server.removeAllListeners('error');
				server.on('error', () => {});
				if (this.closed) {
					server.close();
					resolve(null);
					return;
				}
				this.server = server;
				const bound = (server.address() as net.AddressInfo).port;
				const { error: _error, ...rest } = this.state;
				const wasPending = this.state.mode === 'pending';
				this.state = { ...rest, mode: 'forward', boundPort: bound };
				if (wasPending && this.retry) this.onChange();
				resolve(null);
			});
		});
	}

	private accept(client: net.Socket): void {
		client.on('error', () => {});
		if (this.spec.allow && !inSubnet(client.remoteAddress ?? '', this.spec.allow)) {
			this.state.refused += 1;
			client.destroy();
			return;
		}
		this.state.accepted += 1;
		// the client waits (paused) until the LLM accepts: then bytes flow both ways untouched
		client.pause();
		let connected = false;
		const upstream = net.connect({ host: this.spec.targetHost, port: this.spec.targetPort, noDelay: true });
		upstream.once('connect', () => {
			connected = true;
			client.pipe(upstream);
			upstream.pipe(client);
		});
		upstream.on('error', (error: NodeJS.ErrnoException) => {
			if (connected) client.destroy();
			else this.refuse(client, error.code ?? error.message);
		});
		client.on('close', () => upstream.destroy());
		upstream.on('close', () => connected && client.destroy());
		this.sockets.add(client).add(upstream);
		client.once('close', () => this.sockets.delete(client));
		upstream.once('close', () => this.sockets.delete(upstream));
	}

	/**
	 * The LLM is down. An HTTP client (the runner) is answered 502 with the reason, in the error shape of
	 * OpenAI-compatible APIs, so the execution's error names the host address that does not answer
	 * instead of a bare "server disconnected". Anything else is closed.
	 */
	private refuse(client: net.Socket, reason: string): void {
		const target = `${this.spec.targetHost.includes(':') ? `[${this.spec.targetHost}]` : this.spec.targetHost}:${this.spec.targetPort}`;
		const body = JSON.stringify({ error: { message: `cannot reach the LLM at ${target} on the host (${reason} through stigmer's forward): is the LLM server running?`, type: 'stigmer_forward' } });
		refuseHttp(client, body);
	}
}

/**
 * The port a forward for `spec` will use, found without opening it (a listen closed at once), so that
 * the container can be created while the supervisor starts: the LLM's own port when it is free on that
 * address, when the LLM answers there itself, or when the address does not exist yet; null when only
 * the forward itself can tell (it will take a port of the system's choosing).
 */
export async function predictForwardPort(listenHost: string, port: number): Promise<number | null> {
	const server = net.createServer();
	const code = await new Promise<string | null>((resolve) => {
		server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
		server.listen({ host: listenHost, port }, () => resolve(null));
	});
	if (code === null) await new Promise<void>((resolve) => server.close(() => resolve()));
	if (code === null || code === 'EADDRNOTAVAIL') return port;
	if (code === 'EADDRINUSE' && (await probeTcp(port, listenHost))) return port;
	return null;
}

function ipv4ToNumber(address: string): number | null {
	const parts = address.split('.');
	if (parts.length !== 4) return null;
	let value = 0;
	for (const part of parts) {
		if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
		value = value * 256 + Number(part);
	}
	return value;
}

/** Whether an IPv4 address (also as ::ffff:a.b.c.d) lies in an IPv4 CIDR. */
export function inSubnet(address: string, cidr: string): boolean {
	const ip = ipv4ToNumber(address.startsWith('::ffff:') ? address.slice(7) : address);
	const [base, bitsText] = cidr.split('/');
	const network = ipv4ToNumber(base ?? '');
	const bits = Number(bitsText ?? '32');
	if (ip === null || network === null || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
	const size = 2 ** (32 - bits);
	return Math.floor(ip / size) === Math.floor(network / size);
}
