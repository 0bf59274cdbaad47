// A pass-through to the real engine's unix socket, listening on a unix socket of its own or on a TLS
// port of 127.0.0.1: the real engine answers every request. The test reads the request lines that went
// through (which API version was spoken) and can cut every connection (the engine going away and
// coming back, as a client sees it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { resolveEndpoint } from '../../source/engine/endpoint.ts';

export interface EngineProxy {
	/** DOCKER_HOST for clients of the proxy */
	dockerHost: string;
	/** `GET /v1.41/containers/json?…` request lines seen so far */
	requests: string[];
	/** destroys every open connection */
	cut(): void;
	close(): Promise<void>;
}

export interface TlsMaterial {
	/** DOCKER_CERT_PATH for the client: ca.pem, cert.pem, key.pem */
	clientDir: string;
	server: { key: string; cert: string; ca: string };
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate (openssl, P-256 keys). */
export function makeTlsMaterial(): TlsMaterial {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'stigmer-tls-'));
	const f = (name: string) => path.join(dir, name);
	const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
	const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
	ssl('req', '-x509', ...key, '-keyout', f('ca-key.pem'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=stigmer-test-ca');
	writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
	writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
	for (const [who, keyFile, certFile] of [
		['server', 'server-key.pem', 'server-cert.pem'],
		['client', 'key.pem', 'cert.pem'],
	] as const) {
		ssl('req', ...key, '-keyout', f(keyFile), '-out', f(`${who}.csr`), '-subj', `/CN=stigmer-test-${who}`);
		ssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-out', f(certFile), '-days', '1', '-extfile', f(`${who}.ext`));
	}
	const read = (name: string) => readFileSync(f(name), 'utf8');
	return { clientDir: dir, server: { key: read('server-key.pem'), cert: read('server-cert.pem'), ca: read('ca.pem') } };
}

/** `delayMs`: each answer of the engine is held this long before it goes on (a busy engine). */
export async function startEngineProxy(options: { tls?: TlsMaterial['server']; delayMs?: number } = {}): Promise<EngineProxy> {
	const engine = resolveEndpoint(process.env);
	if (engine.kind !== 'unix') throw new Error('the engine proxy needs a local engine on a unix socket');
	const sockets = new Set<net.Socket>();
	const requests: string[] = [];
	const onClient = (client: net.Socket) => {
		const upstream = net.connect(engine.socketPath);
		sockets.add(client);
		sockets.add(upstream);
		client.on('data', (chunk: Buffer) => {
			for (const match of chunk.toString('latin1').matchAll(/^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP\/1\.[01]\r$/gm)) requests.push(`${match[1]} ${match[2]}`);
		});
		client.pipe(upstream);
		if (options.delayMs) {
			// every byte and the engine's end of the answer (HTTP/1.0: it closes) held as long, in order
			const later = (act: () => void) => {
				const timer = setTimeout(act, options.delayMs);
				client.once('close', () => clearTimeout(timer));
			};
			upstream.on('data', (chunk: Buffer) => later(() => client.writable && client.write(chunk)));
			upstream.on('end', () => later(() => client.end()));
		} else upstream.pipe(client);
		const drop = () => {
			client.destroy();
			upstream.destroy();
			sockets.delete(client);
			sockets.delete(upstream);
		};
		client.on('error', drop).on('close', drop);
		// held answers: the client's end comes later (above), and its close drops the pair
		upstream.on('error', drop).on('close', () => options.delayMs || drop());
	};
	const server = options.tls ? tls.createServer({ ...options.tls, requestCert: true, rejectUnauthorized: true }, onClient) : net.createServer(onClient);
	let dockerHost: string;
	if (options.tls) {
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		dockerHost = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
	} else {
		const socketPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'stigmer-proxy-')), 'docker.sock');
		await new Promise<void>((resolve) => server.listen(socketPath, resolve));
		dockerHost = `unix://${socketPath}`;
	}
	return {
		dockerHost,
		requests,
		cut: () => {
			for (const socket of sockets) socket.destroy();
			sockets.clear();
		},
		close: () =>
			new Promise<void>((resolve) => {
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}
