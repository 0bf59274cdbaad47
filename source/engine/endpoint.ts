// Where the container engine is: DOCKER_HOST, DOCKER_CONTEXT, the current docker context in
// $DOCKER_CONFIG/config.json, then the well-known sockets of Docker Engine, Docker Desktop, Colima,
// OrbStack and Podman (docs/contract.md, "Runtime"). dockerode reads none of the context files itself, and
// its own DOCKER_HOST reading differs from the docker CLI's: DockerApi hands it what is resolved here.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { nodeCrypto } from '../lazyBuiltins.js';

export type Endpoint =
	| { kind: 'unix'; socketPath: string; source: string }
	| { kind: 'tcp'; host: string; port: number; tls: TlsFiles | null; source: string }
	/** `ssh://[user@]host[:port]`: user and port null when ssh's own config decides them */
	| { kind: 'ssh'; host: string; user: string | null; port: number | null; source: string };

export interface TlsFiles {
	ca?: string;
	cert?: string;
	key?: string;
	verify: boolean;
}

export function endpointUrl(endpoint: Endpoint): string {
	if (endpoint.kind === 'unix') return `unix://${endpoint.socketPath}`;
	if (endpoint.kind === 'ssh') {
		const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
		return `ssh://${endpoint.user ? `${endpoint.user}@` : ''}${host}${endpoint.port ? `:${endpoint.port}` : ''}`;
	}
	return `${endpoint.tls ? 'https' : 'tcp'}://${endpoint.host}:${endpoint.port}`;
}

export class EndpointError extends Error {}

export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
	return env.DOCKER_CONFIG || path.join(homedir(), '.docker');
}

/** ca.pem, cert.pem and key.pem of a directory, each when present. */
function readTlsFiles(dir: string): Omit<TlsFiles, 'verify'> {
	const read = (name: string) => (existsSync(path.join(dir, name)) ? readFileSync(path.join(dir, name), 'utf8') : undefined);
	return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

export function parseDockerHost(host: string, source: string, env: NodeJS.ProcessEnv = process.env): Endpoint {
	if (host.startsWith('unix://')) return { kind: 'unix', socketPath: host.slice('unix://'.length), source };
	if (host.startsWith('tcp://') || host.startsWith('http://') || host.startsWith('https://')) {
		const url = new URL(host.replace(/^tcp:/, 'http:'));
		// As the docker CLI: any non-empty DOCKER_TLS_VERIFY (even "0") means TLS with verification, any
		// non-empty DOCKER_TLS means TLS without it; the files come from DOCKER_CERT_PATH, else ~/.docker.
		const verify = (env.DOCKER_TLS_VERIFY ?? '') !== '';
		const tlsWanted = host.startsWith('https://') || verify || (env.DOCKER_TLS ?? '') !== '';
		let tls: TlsFiles | null = null;
		if (tlsWanted) {
			if (env.DOCKER_CERT_PATH && !existsSync(env.DOCKER_CERT_PATH))
				throw new EndpointError(`${source}: DOCKER_CERT_PATH=${env.DOCKER_CERT_PATH} does not exist; it names the directory holding ca.pem, cert.pem and key.pem`);
			const certDir = env.DOCKER_CERT_PATH || dockerConfigDir(env);
			tls = { ...readTlsFiles(certDir), verify };
		}
		return { kind: 'tcp', host: url.hostname, port: Number(url.port || (tls ? 2376 : 2375)), tls, source };
	}
	if (host.startsWith('npipe://')) throw new EndpointError(`${source}: Windows named pipes (${host}) are not supported; use WSL with a unix socket or tcp://`);
	if (host.startsWith('ssh://')) return parseSshHost(host, source);
	if (host.startsWith('/')) return { kind: 'unix', socketPath: host, source };
	throw new EndpointError(`${source}: cannot understand engine address "${host}"; expected unix:///path, tcp://host:port or ssh://[user@]host[:port]`);
}

/** `ssh://[user@]host[:port]`, refused as the docker CLI refuses it: no password, no path. */
function parseSshHost(host: string, source: string): Endpoint {
	let url: URL;
	try {
		url = new URL(host);
	} catch {
		throw new EndpointError(`${source}: cannot understand engine address "${host}"; expected ssh://[user@]host[:port]`);
	}
	if (!url.hostname) throw new EndpointError(`${source}: "${host}" names no host; expected ssh://[user@]host[:port]`);
	if (url.password) throw new EndpointError(`${source}: "${url.protocol}//${url.username}:***@${url.host}" holds a password; ssh:// takes none (use a key: ssh-copy-id, ssh-add)`);
	if (url.pathname && url.pathname !== '/') throw new EndpointError(`${source}: "${host}" has a path (${url.pathname}); ssh:// takes none (the remote engine is the one \`docker\` reaches there)`);
	if (url.search || url.hash) throw new EndpointError(`${source}: "${host}" has a query or fragment; expected ssh://[user@]host[:port]`);
	const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
	return { kind: 'ssh', host: hostname, user: url.username ? decodeURIComponent(url.username) : null, port: url.port ? Number(url.port) : null, source };
}

function contextEndpoint(name: string, source: string, env: NodeJS.ProcessEnv): Endpoint | null {
	if (name === 'default') return null;
	const { createHash } = nodeCrypto(); // a context's TLS directory only: every engine command resolves an endpoint
	const id = createHash('sha256').update(name).digest('hex');
	const meta = path.join(dockerConfigDir(env), 'contexts', 'meta', id, 'meta.json');
	let parsed: { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
	try {
		parsed = JSON.parse(readFileSync(meta, 'utf8'));
	} catch {
		throw new EndpointError(`${source}: docker context "${name}" not found (no ${meta}); list contexts with \`docker context ls\``);
	}
	const host = parsed.Endpoints?.docker?.Host;
	if (!host) throw new EndpointError(`${source}: docker context "${name}" has no docker endpoint`);
	const endpoint = parseDockerHost(host, `${source} (context ${name})`, env);
	if (endpoint.kind === 'tcp') {
		const tlsDir = path.join(dockerConfigDir(env), 'contexts', 'tls', id, 'docker');
		if (existsSync(tlsDir)) endpoint.tls = { ...readTlsFiles(tlsDir), verify: !parsed.Endpoints?.docker?.SkipTLSVerify };
	}
	return endpoint;
}

export function wellKnownSockets(env: NodeJS.ProcessEnv = process.env): string[] {
	const home = homedir();
	const runtime = env.XDG_RUNTIME_DIR;
	return [
		'/var/run/docker.sock',
		path.join(home, '.docker', 'run', 'docker.sock'), // Docker Desktop (macOS, Linux)
		path.join(home, '.docker', 'desktop', 'docker.sock'),
		path.join(home, '.colima', 'default', 'docker.sock'),
		path.join(home, '.colima', 'docker.sock'),
		path.join(home, '.orbstack', 'run', 'docker.sock'),
		...(runtime ? [path.join(runtime, 'docker.sock'), path.join(runtime, 'podman', 'podman.sock')] : []),
		'/run/podman/podman.sock',
		path.join(home, '.local', 'share', 'containers', 'podman', 'machine', 'podman.sock'),
	];
}

function isSocket(file: string): boolean {
	try {
		return statSync(file).isSocket();
	} catch {
		return false;
	}
}

/** The endpoint to use, in docs/contract.md's order. Never touches the network. */
export function resolveEndpoint(env: NodeJS.ProcessEnv = process.env): Endpoint {
	if (env.DOCKER_HOST) return parseDockerHost(env.DOCKER_HOST, 'DOCKER_HOST', env);
	if (env.DOCKER_CONTEXT) {
		const endpoint = contextEndpoint(env.DOCKER_CONTEXT, 'DOCKER_CONTEXT', env);
		if (endpoint) return endpoint;
	}
	const configFile = path.join(dockerConfigDir(env), 'config.json');
	try {
		const config = JSON.parse(readFileSync(configFile, 'utf8')) as { currentContext?: string };
		if (config.currentContext) {
			const endpoint = contextEndpoint(config.currentContext, configFile, env);
			if (endpoint) return endpoint;
		}
	} catch (error) {
		if (error instanceof EndpointError) throw error;
	}
	const found = wellKnownSockets(env).find(isSocket);
	return { kind: 'unix', socketPath: found ?? '/var/run/docker.sock', source: found ? 'well-known socket' : 'default socket' };
}
