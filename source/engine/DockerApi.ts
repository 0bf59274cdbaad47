// The engine connection: dockerode (docker-modem underneath) on the endpoint that endpoint.ts resolved,
// at the API version negotiated with the engine (apiVersion.ts). What dockerode does not do lives
// here: handing it the resolved endpoint (it reads no docker context, and its own DOCKER_HOST parsing
// differs from the docker CLI's), negotiation, and error helpers; a failed first contact is said by
// engineUnreachable.ts.
// dockerode is loaded on the first use of `docker` only: negotiation and the small GETs a status needs
// (getJson: rawHttp.ts's rawGet) go without it, and commands that never talk to the engine (and `--help`)
// do not pay for it either.
import { existsSync } from 'node:fs';
import type { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { deferDockerodeExtras } from './deferDockerodeExtras.js';
import { type Duplex, type Readable, addAbortSignal } from 'node:stream';
import type Dockerode from 'dockerode';
import type DockerModem from 'docker-modem';
import { ApiVersionError, chooseApiVersion, maxApiVersion, minApiVersion, needsVersionRange, newerThanMax, type EngineVersionRange } from './apiVersion.js';
import { type Endpoint, EndpointError, endpointUrl, resolveEndpoint } from './endpoint.js';
import { engineDialer } from './engineDialer.js';
import { engineStatus, orNull } from './engineErrors.js';
import { engineInfoFromPing, platformOfVersion } from './enginePing.js';
import { EngineUnreachableError, busyEngineTimeoutMs, diagnoseUnreachable, timedOut } from './engineUnreachable.js';
import { type RawHeaders, rawError, rawGet, rawGetBody, readAll, versionedPath } from './rawHttp.js';
import { nodeHttp, nodeHttps } from '../lazyBuiltins.js';

export { compareApiVersions, maxApiVersion, minApiVersion } from './apiVersion.js';
export { engineMessage, engineStatus, orNull } from './engineErrors.js';
export { EngineUnreachableError } from './engineUnreachable.js';

const require = createRequire(import.meta.url);
/** the first contact's time limit over ssh, handshake included (the docker CLI gives ssh 30 s to connect) */
const sshConnectTimeoutMs = 20_000;

export interface EngineInfo {
	endpoint: string;
	version: string;
	apiVersion: string;
	os: string;
	arch: string;
	/** 'Docker Engine', 'Podman Engine', … as the engine names itself (isPodman tells the kind) */
	platform: string;
}

/**
 * docker-modem's options for an endpoint. Every field is set (undefined included), because docker-modem
 * merges them over what it reads from DOCKER_HOST itself. An ssh:// endpoint is plain HTTP to a
 * placeholder host: the agent's connections are ssh's (engineDialer.ts), never docker-modem's ssh2 path
 * (which opens a new ssh connection per request and ignores ~/.ssh/config).
 */
export function dockerodeOptions(endpoint: Endpoint, agent?: Agent): DockerModem.ConstructorOptions {
	const common = { version: undefined, timeout: undefined, headers: {}, agent };
	const noTls = { ca: undefined, cert: undefined, key: undefined };
	if (endpoint.kind === 'unix') return { ...common, socketPath: endpoint.socketPath, host: undefined, port: undefined, protocol: 'http', ...noTls };
	if (endpoint.kind === 'ssh') return { ...common, socketPath: undefined, host: 'docker', port: undefined, protocol: 'http', ...noTls };
	const tls = endpoint.tls;
	return { ...common, socketPath: undefined, host: endpoint.host, port: endpoint.port, protocol: tls ? 'https' : 'http', ca: tls?.ca, cert: tls?.cert, key: tls?.key };
}

/**
 * Plain HTTP (unix, tcp, ssh). servername is TLS's (SNI) alone; without one, Node's agent works it out
 * on each request and asks net.isIP('localhost'), whose first call compiles the IPv6 pattern: ≈5 ms of
 * every engine command's CPU (load 9).
 */
const plainHttpAgentOptions = { keepAlive: true, servername: '' };

/**
 * A keep-alive agent of our own (close() ends its sockets); TLS verification as the endpoint says; over
 * ssh, connections from the endpoint's dialer (one ssh connection, a session per engine connection).
 */
function agentFor(endpoint: Endpoint): Agent {
	if (endpoint.kind === 'ssh') {
		const agent = new (nodeHttp().Agent)(plainHttpAgentOptions);
		const dialer = engineDialer(endpoint);
		// Node's agent takes the connection from a callback when createConnection returns nothing
		agent.createConnection = ((_options: unknown, done: (error: Error | null, socket?: Duplex) => void) => {
			dialer.dial().then(
				(socket) => done(null, socket),
				(error: Error) => done(error),
			);
			return undefined;
		}) as unknown as Agent['createConnection'];
		return agent;
	}
	if (endpoint.kind === 'tcp' && endpoint.tls) {
		const { ca, cert, key, verify } = endpoint.tls;
		return new (nodeHttps().Agent)({ keepAlive: true, ca, cert, key, rejectUnauthorized: verify });
	}
	return new (nodeHttp().Agent)(plainHttpAgentOptions);
}

/** GET /version's body (`Os`, `Arch`, `MinAPIVersion`, `Components`, …). */
export function engineVersion(docker: Dockerode, abortSignal: AbortSignal): Promise<Record<string, unknown>> {
	// dockerode 5 takes `abortSignal` on every call; @types/dockerode 4 leaves it out here
	const ask = docker.version as unknown as (this: Dockerode, o: { abortSignal: AbortSignal }) => Promise<Record<string, unknown>>;
	return ask.call(docker, { abortSignal });
}

/**
 * GET /_ping's response headers (its body is "OK"); `/v1.47/_ping` asks whether the engine accepts that
 * version (Docker refuses one below its minimum).
 */
async function pingHeaders(endpoint: Endpoint, agent: Agent | undefined, signal: AbortSignal, path = '/_ping'): Promise<RawHeaders> {
	const answer = await rawGet(endpoint, path, { signal, agent });
	const body = await readAll(answer.body);
	if (answer.status !== 200) throw rawError(answer.status, body);
	return answer.headers;
}

/**
 * docker-modem's constructor reads DOCKER_HOST and, for a non-unix one, the three files of
 * DOCKER_CERT_PATH, throwing ENOENT when one is missing, before our options (which set everything)
 * override it all. It constructs with both hidden: a CA-less DOCKER_CERT_PATH is then refused by TLS
 * with our message, not taken for an engine that is not running. Synchronous, so nothing else runs meanwhile.
 */
function withoutModemEnv<T>(construct: () => T): T {
	const saved = { DOCKER_HOST: process.env.DOCKER_HOST, DOCKER_CERT_PATH: process.env.DOCKER_CERT_PATH };
	delete process.env.DOCKER_HOST;
	delete process.env.DOCKER_CERT_PATH;
	try {
		return construct();
	} finally {
		for (const [key, value] of Object.entries(saved)) if (value !== undefined) process.env[key] = value;
	}
}

// The built CLI loads the one-file bundle of dockerode the build makes (scripts/bundle-dockerode.mjs:
// the npm package then installs no dockerode, nor the ssh2/gRPC it would pull in); run from sources
// (the tests), the package itself, its unused libraries deferred.
const bundledDockerode = new URL('../vendor/dockerode.cjs', import.meta.url);

function loadDockerode(): typeof Dockerode {
	if (existsSync(bundledDockerode)) return require('../vendor/dockerode.cjs') as typeof Dockerode;
	deferDockerodeExtras();
	return require('dockerode') as typeof Dockerode;
}

export class DockerApi {
	/** the negotiated version, e.g. '1.41' (null before the first negotiation) */
	apiVersion: string | null = null;
	info: EngineInfo | null = null;
	private client: Dockerode | null = null;
	private agentInstance: Agent | null = null;
	private negotiating: Promise<EngineInfo> | null = null;

	constructor(readonly endpoint: Endpoint) {}

	/** Resolves the endpoint, checks the engine answers, negotiates the API version. Exit 3 when unreachable. */
	static async connect(env: NodeJS.ProcessEnv = process.env, timeoutMs = 3000): Promise<DockerApi> {
		let endpoint: Endpoint;
		try {
			endpoint = resolveEndpoint(env);
		} catch (error) {
			if (error instanceof EndpointError) throw new EngineUnreachableError(error.message, 'fix DOCKER_HOST / DOCKER_CONTEXT, or unset them to use the local engine');
			throw error;
		}
		const api = new DockerApi(endpoint);
		await api.negotiate(timeoutMs);
		return api;
	}

	get endpointUrl(): string {
		return endpointUrl(this.endpoint);
	}

	/**
	 * The dockerode client at the negotiated version, loaded on first use (getJson answers the small
	 * GETs without it); negotiate() (or ready()) first.
	 */
	get docker(): Dockerode {
		if (!this.apiVersion) throw new Error('DockerApi: negotiate() before using the engine');
		if (!this.client) {
			const Docker = loadDockerode();
			const options = { ...dockerodeOptions(this.endpoint, this.agent), version: `v${this.apiVersion}` };
			this.client = withoutModemEnv(() => new Docker(options as Dockerode.DockerOptions));
		}
		return this.client;
	}

	/** GET /v{negotiated}`path`?`query` (objects in the query as JSON): the engine's JSON answer, without dockerode. */
	async getJson<T>(path: string, query?: Parameters<typeof versionedPath>[2], signal?: AbortSignal): Promise<T> {
		const text = await this.getText(path, query, signal);
		try {
			return JSON.parse(text) as T;
		} catch {
			throw new EngineUnreachableError(
				`the engine at ${this.endpointUrl} answered GET ${path} with something other than JSON: ${JSON.stringify(text.slice(0, 80))}`,
				'check that DOCKER_HOST / DOCKER_CONTEXT point at a Docker or Podman engine; `stigmer doctor` checks each step',
			);
		}
	}

	/** The same GET's answer as text (a finite events query: JSON lines). */
	async getText(path: string, query?: Parameters<typeof versionedPath>[2], signal?: AbortSignal): Promise<string> {
		if (!this.apiVersion) throw new Error('DockerApi: negotiate() before using the engine');
		return (await rawGetBody(this.endpoint, versionedPath(this.apiVersion, path, query), { signal, agent: this.requestAgent })).toString('utf8');
	}

	/** The client, negotiating first when that has not happened yet (one negotiation for concurrent callers). */
	async ready(timeoutMs = 3000): Promise<Dockerode> {
		if (this.apiVersion) return this.docker;
		this.negotiating ??= this.negotiate(timeoutMs).finally(() => {
			this.negotiating = null;
		});
		await this.negotiating;
		return this.docker;
	}

	private get agent(): Agent {
		this.agentInstance ??= agentFor(this.endpoint);
		return this.agentInstance;
	}

	/**
	 * The agent for our own GETs (rawGet): the keep-alive one where a connection costs a handshake (tcp, TLS)
	 * or an ssh session; none on a unix socket, where a fresh connection costs a syscall and HTTP/1.0
	 * needs no node:http (`server status --json` CPU 138 → 132 ms, task-clock, median of 21 alternating runs, load 5.4).
	 */
	private get requestAgent(): Agent | undefined {
		return this.endpoint.kind === 'unix' ? undefined : this.agent;
	}

	/** Asks the engine which API versions it speaks (/_ping; GET /version only when that cannot tell) and picks ours; again after a reconnect. */
	async negotiate(timeoutMs = 3000): Promise<EngineInfo> {
		// over ssh the first contact includes ssh's handshake (ssh reports its own failures at once)
		if (this.endpoint.kind === 'ssh') timeoutMs = Math.max(timeoutMs, sshConnectTimeoutMs);
		let version: EngineVersionRange & { Version: string; Os: string; Arch: string; Platform?: { Name?: string }; Components?: Array<{ Name?: string }> };
		try {
			const signal = AbortSignal.timeout(timeoutMs);
			// /_ping's headers name the engine and its API version. An engine that speaks more than we do
			// may refuse our max (its minimum above it): a versioned /_ping asks. /version (slow: see
			// enginePing.ts) only when the headers do not tell, when the engine is too old (its refusal's
			// wording), or when it refuses our max (its MinAPIVersion then decides)
			const pinged = engineInfoFromPing(await pingHeaders(this.endpoint, this.requestAgent, signal), this.endpointUrl);
			let fromPing = pinged !== null && !needsVersionRange(pinged.apiVersion);
			if (pinged && !fromPing && newerThanMax(pinged.apiVersion)) {
				fromPing = await pingHeaders(this.endpoint, this.requestAgent, signal, `/v${maxApiVersion}/_ping`).then(
					() => true,
					() => false,
				);
			}
			if (pinged && fromPing) {
				version = { Version: pinged.version, ApiVersion: pinged.apiVersion, Os: pinged.os, Arch: pinged.arch, Platform: { Name: pinged.platform } };
			} else {
				version = JSON.parse((await rawGetBody(this.endpoint, '/version', { signal, agent: this.requestAgent })).toString('utf8')) as typeof version;
			}
		} catch (error) {
			// a local socket connects at once or fails at once: no answer in time there means an engine that
			// runs but is busy (Podman 4.3 took 7 s under load), not one that is gone. It gets longer, once.
			if (this.endpoint.kind === 'unix' && timedOut(error) && timeoutMs < busyEngineTimeoutMs) return this.negotiate(busyEngineTimeoutMs);
			throw diagnoseUnreachable(this.endpoint, error, timeoutMs);
		}
		let chosen: string;
		try {
			chosen = chooseApiVersion(version);
		} catch (error) {
			if (!(error instanceof ApiVersionError)) throw error;
			throw new EngineUnreachableError(
				`the engine at ${this.endpointUrl} speaks Docker API ${error.engineVersion}; stigmer needs ${minApiVersion} or later`,
				'upgrade Docker Engine to 20.10 or later (or Podman to 4 or later)',
			);
		}
		this.client = null; // made at the negotiated version on first use
		this.apiVersion = chosen;
		this.info = {
			endpoint: this.endpointUrl,
			version: version.Version,
			apiVersion: chosen,
			os: version.Os,
			arch: version.Arch,
			platform: platformOfVersion(version),
		};
		return this.info;
	}

	close(): void {
		this.agentInstance?.destroy();
		this.agentInstance = null;
		if (this.endpoint.kind === 'ssh') engineDialer(this.endpoint).close();
	}

	// -- Remote engines (remstack, docs/architecture.md "Remote engines"): exec with hijacked stdio,
	// -- archives into a container, and the home's named volumes.

	/**
	 * Runs `cmd` in a running container with stdin, stdout and stderr on one hijacked connection (the raw
	 * socket after `101 UPGRADED`; stdout and stderr arrive in the engine's 8-byte framed form, Tty off).
	 */
	async execAttached(container: string, cmd: string[], options: { user?: string } = {}): Promise<{ stream: Duplex; exec: Dockerode.Exec }> {
		const exec = await this.docker.getContainer(container).exec({ Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false, User: options.user });
		const stream = (await exec.start({ hijack: true, stdin: true, Detach: false, Tty: false })) as Duplex;
		return { stream, exec };
	}

	/** Extracts a tar archive into a container (created or running) at `path`: owners and modes as the archive says. */
	async putArchive(container: string, path: string, tar: Buffer): Promise<void> {
		await this.docker.getContainer(container).putArchive(tar, { path });
	}

	/** Creates the named volume with these labels unless it exists; true when it was created. */
	async ensureVolume(name: string, volumeLabels: Record<string, string>): Promise<boolean> {
		const existing = await orNull(this.docker.getVolume(name).inspect());
		if (existing) return false;
		await this.docker.createVolume({ Name: name, Labels: volumeLabels });
		return true;
	}

	/** The volumes whose labels match every `key=value` of the selector. */
	async listVolumes(labelSelector: string[]): Promise<Array<{ Name: string; Labels: Record<string, string> | null; CreatedAt?: string }>> {
		const answer = await this.getJson<{ Volumes: Array<{ Name: string; Labels: Record<string, string> | null; CreatedAt?: string }> | null }>('/volumes', {
			filters: { label: labelSelector },
		});
		return answer.Volumes ?? [];
	}

	/** Removes a volume; false when it did not exist. A volume still in use is the engine's error (409). */
	async removeVolume(name: string): Promise<boolean> {
		try {
			await this.docker.getVolume(name).remove();
			return true;
		} catch (error) {
			if (engineStatus(error) === 404) return false;
			throw error;
		}
	}
}

/**
 * dockerode's `abortSignal` covers a streaming request only until the response headers arrive; this
 * makes the signal end the body too. The listener goes away with the stream (node's addAbortSignal).
 */
export function abortable<T extends Readable>(stream: T, signal: AbortSignal | undefined): T {
	if (signal) addAbortSignal(signal, stream);
	return stream;
}
