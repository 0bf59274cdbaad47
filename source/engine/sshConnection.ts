// One engine connection over ssh (sshDialer.ts dials it): the stdio of an `ssh … docker system
// dial-stdio` as a socket, and what ssh printed when it gave up, turned into the user's fix.
import type { ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { Endpoint } from './endpoint.js';

export type SshEndpoint = Extract<Endpoint, { kind: 'ssh' }>;

/** ssh could not give us an engine connection: what went wrong, in ssh's words, and the fix. */
export class SshDialError extends Error {
	constructor(
		message: string,
		readonly hint: string,
	) {
		super(message);
		this.name = 'SshDialError';
	}
}

/** The user's fix for what ssh (or the remote command) printed before it gave up. */
export function sshFailure(endpoint: SshEndpoint, stderr: string, code: number | null): SshDialError {
	const where = `${endpoint.user ? `${endpoint.user}@` : ''}${endpoint.host}`;
	const said = stderr
		.split('\n')
		.map((line) => line.trim())
		.filter((line) => line && !/^Warning: Permanently added/.test(line))
		.join('; ');
	const detail = said || `ssh exited with code ${code}`;
	const message = `ssh to ${where} (${endpoint.source}): ${detail}`;
	if (/host key verification failed|no .* host key is known|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(stderr))
		return new SshDialError(message, `check the host key of ${endpoint.host} and accept it once: ssh ${where} true (stigmer never prompts)`);
	if (/permission denied \((publickey|password|keyboard)/i.test(stderr) || /too many authentication failures/i.test(stderr))
		return new SshDialError(message, `set up key authentication for ${where}: ssh-copy-id ${where}, and ssh-add your key (stigmer runs ssh in batch mode: no password prompt)`);
	if (/could not resolve hostname|connection refused|connection timed out|no route to host|network is unreachable|operation timed out/i.test(stderr))
		return new SshDialError(message, `check that ${endpoint.host} is reachable with ssh (ssh ${where} true), or fix DOCKER_HOST / the docker context`);
	if (code === 127 || /docker: (command )?not found|command not found|no such file or directory/i.test(stderr))
		return new SshDialError(
			`${message} (docker is not on the PATH of a non-interactive ssh session there)`,
			`install the docker CLI on ${endpoint.host}, or put it on the PATH that \`ssh ${where} docker version\` sees`,
		);
	if (/docker\.sock.*permission denied|permission denied.*docker.*sock|docker daemon socket/i.test(stderr))
		return new SshDialError(message, `let ${endpoint.user ?? 'your user'} use Docker on ${endpoint.host}: sudo usermod -aG docker ${endpoint.user ?? '$USER'} there, then reconnect`);
	if (/cannot connect to the docker daemon|is the docker daemon running/i.test(stderr)) return new SshDialError(message, `start Docker on ${endpoint.host} (sudo systemctl start docker there)`);
	return new SshDialError(message, `check that \`ssh ${where} docker system dial-stdio\` works from this shell`);
}

function spawnError(endpoint: SshEndpoint, error: NodeJS.ErrnoException): SshDialError {
	if (error.code === 'ENOENT')
		return new SshDialError(`${endpoint.source}: ssh:// needs the ssh client, and there is none on the PATH`, "install OpenSSH's client: sudo apt-get install openssh-client (macOS ships it)");
	return new SshDialError(`${endpoint.source}: cannot run ssh: ${error.message}`, 'check that `ssh` runs from this shell');
}

/**
 * One engine connection: the stdio of an `ssh … docker system dial-stdio`, as the socket Node's http
 * client and the raw logs path expect (setTimeout, setKeepAlive, ref/unref included).
 */
export class SshConnection extends Duplex {
	private received = false;
	private sshClosed = false;
	private stderr = '';
	private idleMs = 0;
	private idleTimer: NodeJS.Timeout | null = null;
	readonly remoteAddress: string;

	constructor(
		private readonly child: ChildProcess,
		endpoint: SshEndpoint,
	) {
		super({ allowHalfOpen: false });
		this.remoteAddress = endpoint.host;
		const stdout = child.stdout!;
		stdout.on('data', (chunk: Buffer) => {
			this.received = true;
			this.touch();
			if (!this.push(chunk)) stdout.pause();
		});
		child.stderr!.on('data', (chunk: Buffer) => {
			if (this.stderr.length < 8192) this.stderr += chunk.toString('utf8');
		});
		child.stdin!.on('error', () => undefined); // EPIPE once ssh is gone: reported by 'close' below
		child.once('error', (error) => this.destroy(spawnError(endpoint, error as NodeJS.ErrnoException)));
		// The engine closed its side (an HTTP/1.0 answer ends so): the end of our reading, at once. ssh itself
		// ends only once its stdin ends too, which follows (allowHalfOpen is off). Before any byte, wait for
		// ssh's exit: an end then may be ssh's failure.
		stdout.once('end', () => {
			if (this.received) this.end_();
		});
		child.once('close', (code, signal) => {
			this.sshClosed = true;
			this.clearIdle();
			if (this.destroyed) return;
			// ssh's own failure (255) or the remote command's, before any byte of the engine's: the user's to fix
			if (!this.received && (code !== 0 || this.stderr.trim())) this.destroy(sshFailure(endpoint, this.stderr, code ?? (signal ? 255 : null)));
			else this.end_();
		});
	}

	override _read(): void {
		this.child.stdout?.resume();
	}

	override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
		this.touch();
		const stdin = this.child.stdin;
		if (!stdin || stdin.destroyed) {
			this.failWrite(callback, Object.assign(new Error('the ssh connection is closed'), { code: 'EPIPE' }));
			return;
		}
		stdin.write(chunk, (error) => (error ? this.failWrite(callback, error) : callback(null)));
	}

	/**
	 * A write that failed because ssh is gone or going (EPIPE): its 'close' says why (ssh's failure or the
	 * remote command's, with the fix), so the write's error waits for it and only surfaces if 'close' had
	 * nothing to say. Reported at once, the EPIPE won the race and the user read "write EPIPE" instead of
	 * "docker: not found" (a request written to a session whose remote command had already failed).
	 */
	private failWrite(callback: (error?: Error | null) => void, error: Error): void {
		if (this.sshClosed) {
			callback(error);
			return;
		}
		const timer = setTimeout(() => callback(error), 2000);
		timer.unref();
		this.child.once('close', () => {
			clearTimeout(timer);
			// the 'close' handler above ran first: the connection is destroyed with ssh's own failure, or ended
			if (!this.destroyed) callback(error);
		});
	}

	override _final(callback: (error?: Error | null) => void): void {
		this.child.stdin?.end();
		callback();
	}

	override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
		this.clearIdle();
		this.child.stdin?.destroy();
		if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
		callback(error);
	}

	/** As net.Socket: emits 'timeout' after `ms` without traffic (0 turns it off). */
	setTimeout(ms: number, onTimeout?: () => void): this {
		if (onTimeout) this.once('timeout', onTimeout);
		this.idleMs = ms;
		this.touch();
		return this;
	}

	setKeepAlive(): this {
		return this;
	}

	setNoDelay(): this {
		return this;
	}

	/** An idle kept-alive connection must not keep the process alive (Node's http agent unrefs free sockets). */
	unref(): this {
		unrefChild(this.child);
		return this;
	}

	ref(): this {
		this.child.ref();
		for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { ref?: () => void } | null)?.ref?.();
		return this;
	}

	private ended = false;

	private end_(): void {
		if (this.ended) return;
		this.ended = true;
		this.push(null);
	}

	private touch(): void {
		this.clearIdle();
		if (this.idleMs > 0 && !this.destroyed) {
			this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
			this.idleTimer.unref();
		}
	}

	private clearIdle(): void {
		if (this.idleTimer) clearTimeout(this.idleTimer);
		this.idleTimer = null;
	}
}

/** A child (and its pipes) that must not keep this process alive. */
export function unrefChild(child: ChildProcess): void {
	child.unref();
	for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
}
