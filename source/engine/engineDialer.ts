// One way to open an engine connection for every endpoint kind: a unix socket, plain tcp, tcp+TLS
// (tls.connect with the endpoint's files) or ssh (sshDialer.ts). dockerode's ssh connections and the
// raw logs path (rawHttp.ts) both dial through here, so `logs -n` is as fast on every endpoint.
// Dialers are shared per endpoint within a process: an ssh endpoint then has one ssh connection that
// every engine connection of the process multiplexes on.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { type Endpoint, endpointUrl } from './endpoint.js';
import type { SshDialer } from './sshDialer.js';
import { nodeTls } from '../lazyBuiltins.js';

const require = createRequire(import.meta.url);

export interface EngineDialer {
	/** a new connection to the engine; its errors (refused, ssh's) arrive as the stream's 'error' */
	dial(): Promise<Duplex>;
	/** ends what the dialer keeps open (ssh processes) */
	close(): void;
}

const dialers = new Map<string, EngineDialer>();

function connectOnce(connect: () => Duplex): EngineDialer {
	return { dial: async () => connect(), close: () => undefined };
}

function makeDialer(endpoint: Endpoint): EngineDialer {
	if (endpoint.kind === 'unix') return connectOnce(() => net.connect(endpoint.socketPath));
	if (endpoint.kind === 'ssh') {
		const { SshDialer: Dialer } = require('./sshDialer.js') as { SshDialer: typeof SshDialer };
		const ssh = new Dialer(endpoint);
		return { dial: () => ssh.dial(), close: () => ssh.close() };
	}
	const { host, port, tls } = endpoint;
	if (!tls) return connectOnce(() => net.connect(port, host));
	// node:tls only for TLS endpoints (it loads more than a plain socket needs)
	return connectOnce(() => nodeTls().connect({ host, port, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.verify, servername: net.isIP(host) ? undefined : host }));
}

/** The process's dialer for an endpoint (one per endpoint address). */
export function engineDialer(endpoint: Endpoint): EngineDialer {
	const key = `${endpointUrl(endpoint)} ${endpoint.source}`;
	let dialer = dialers.get(key);
	if (!dialer) {
		const made = makeDialer(endpoint);
		dialer = {
			dial: made.dial,
			close: () => {
				dialers.delete(key);
				made.close();
			},
		};
		dialers.set(key, dialer);
	}
	return dialer;
}
