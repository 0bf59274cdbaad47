// An engine that cannot be reached, said as the user can act on it: the first contact's failure
// (DockerApi.negotiate) turned into "not installed", "not running", "permission denied", a TLS or ssh
// problem, or a busy engine, each with its fix (exit 3).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { exitCodes } from '../contract.js';
import { UserError } from '../errors.js';
import { type Endpoint, endpointUrl } from './endpoint.js';
import { engineMessage } from './engineErrors.js';

export class EngineUnreachableError extends UserError {
	constructor(message: string, hint: string) {
		super(message, exitCodes.engineUnreachable, hint);
		this.name = 'EngineUnreachableError';
	}
}

function onPath(program: string): boolean {
	return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, program)));
}

const isMac = process.platform === 'darwin';

/**
 * How long a local engine that took the connection gets to answer in all, once the caller's own
 * timeout (2–3 s) has passed: a busy engine is slow, not unreachable.
 */
export const busyEngineTimeoutMs = 20_000;

/** AbortSignal.timeout() in negotiate(): node's http reports an AbortError caused by a TimeoutError. */
export function timedOut(error: unknown): boolean {
	return [error, (error as { cause?: unknown } | null)?.cause].some((e) => (e as Error | null)?.name === 'TimeoutError');
}

/** Turns a failed first contact into "not installed", "not running" or "permission denied", with the fix. */
export function diagnoseUnreachable(endpoint: Endpoint, error: unknown, timeoutMs?: number): EngineUnreachableError {
	// ssh's own words and the fix (sshConnection.ts); node's http may wrap the connection's error
	const sshError = [error, (error as { cause?: unknown } | null)?.cause].find((e) => (e as Error | null)?.name === 'SshDialError') as (Error & { hint: string }) | undefined;
	if (sshError) return new EngineUnreachableError(sshError.message, sshError.hint);
	const code = (error as NodeJS.ErrnoException).code;
	const where = endpointUrl(endpoint);
	if (code === 'EACCES' || code === 'EPERM') {
		return new EngineUnreachableError(
			`permission denied on the Docker socket ${where}`,
			isMac
				? 'restart Docker Desktop (or Colima) so it recreates the socket with your permissions'
				: 'add yourself to the docker group: sudo usermod -aG docker $USER, then log out and in (or run rootless Docker and set DOCKER_HOST)',
		);
	}
	const installed = onPath('dockerd') || onPath('docker') || onPath('podman') || onPath('colima') || existsSync('/Applications/Docker.app');
	if ((code === 'ENOENT' || code === 'ECONNREFUSED') && installed) {
		return new EngineUnreachableError(
			`the container engine is installed but not running (nothing answers on ${where}, ${endpoint.source})`,
			isMac
				? 'start Docker Desktop, or `colima start`, or OrbStack; or point DOCKER_HOST at a running engine'
				: 'start it: sudo systemctl start docker (or `sudo dockerd &`); for Podman: systemctl --user start podman.socket and DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock',
		);
	}
	if (code === 'ENOENT' || code === 'ECONNREFUSED') {
		return new EngineUnreachableError(
			`no container engine found (nothing answers on ${where}, ${endpoint.source})`,
			isMac
				? 'install Docker Desktop, Colima (brew install colima docker) or OrbStack, and start it'
				: 'install Docker: sudo apt-get install docker.io (Debian/Ubuntu) or see https://docs.docker.com/engine/install/, then sudo systemctl start docker',
		);
	}
	// Node's TLS codes: a certificate the CA files do not vouch for, a name mismatch, an expired one
	if (endpoint.kind === 'tcp' && endpoint.tls && typeof code === 'string' && /CERT|SSL|TLS|SIGNATURE/.test(code)) {
		return new EngineUnreachableError(
			`TLS with the engine at ${where} (${endpoint.source}) failed: ${engineMessage(error)}`,
			'point DOCKER_CERT_PATH at the directory holding the ca.pem, cert.pem and key.pem made for this engine (or use its docker context)',
		);
	}
	if (endpoint.kind === 'unix' && timedOut(error)) {
		return new EngineUnreachableError(
			`the container engine at ${where} (${endpoint.source}) took the connection but did not answer within ${Math.round((timeoutMs ?? busyEngineTimeoutMs) / 1000)} s: it runs, but is busy or hung`,
			'try again once the machine is less busy; if it never answers, restart the engine (sudo systemctl restart docker, or the podman service); `stigmer doctor` checks each step',
		);
	}
	const reason = timedOut(error) ? 'no answer in time' : engineMessage(error);
	return new EngineUnreachableError(
		`cannot reach the container engine at ${where} (${endpoint.source}): ${reason}`,
		'check that the engine is running and DOCKER_HOST / DOCKER_CONTEXT point at it; `stigmer doctor` checks each step',
	);
}
