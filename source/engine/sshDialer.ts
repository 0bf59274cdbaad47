// Engine connections over ssh (`DOCKER_HOST=ssh://[user@]host[:port]`), as the docker CLI dials them:
// the system `ssh` runs `docker system dial-stdio` on the remote host, and its stdin/stdout carry the
// HTTP of one engine connection (docs/architecture.md, "Remote engines"). The system ssh, not dockerode's
// ssh2, because it honours everything the user already set up: ~/.ssh/config (Host aliases, ProxyJump,
// IdentityFile), the agent, known_hosts, and multiplexing.
//
// Connections share one ssh connection (a ControlMaster owned by this process, in a private directory):
// the first dial pays the ssh handshake, later ones a session on it. Every ssh is our child and reads its
// stdin from us, so it ends with this process even when it dies; close() and process exit end them at once.
// ssh runs in batch mode: it never prompts (the dashboard owns the terminal), and an unknown host key or a
// refused key is an error with the fix, not a question.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SshConnection, type SshEndpoint, unrefChild } from './sshConnection.js';

/** `[-l user] [-p port] host` for ssh. */
export function sshTarget(endpoint: SshEndpoint): string[] {
	return [...(endpoint.user ? ['-l', endpoint.user] : []), ...(endpoint.port ? ['-p', String(endpoint.port)] : []), '--', endpoint.host];
}

const remoteCommand = ['docker', 'system', 'dial-stdio'];
/** never prompt; give up on an unreachable host in 30 s (as the docker CLI) */
const batchOptions = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=30', '-T'];

/** Every ssh this process started and has not seen end: ended on process exit (synchronously, as 'exit' allows). */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): ChildProcess {
	live.add(child);
	child.once('exit', () => live.delete(child));
	if (!exitHookInstalled) {
		exitHookInstalled = true;
		process.once('exit', () => {
			for (const c of live) c.kill('SIGTERM');
		});
	}
	return child;
}

function runtimeDir(): string {
	const base = process.env.XDG_RUNTIME_DIR && existsSync(process.env.XDG_RUNTIME_DIR) ? process.env.XDG_RUNTIME_DIR : os.tmpdir();
	const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
	return path.join(base, `stigmer-ssh-${uid}`);
}

export interface SshDialerOptions {
	/** share one ssh connection between engine connections (default: on; STIGMER_SSH_MULTIPLEX=0 turns it off) */
	multiplex?: boolean;
	/** the ssh program (tests: a missing one) */
	ssh?: string;
}

/** Dials engine connections over ssh for one endpoint; close() ends every ssh it started. */
export class SshDialer {
	private readonly multiplex: boolean;
	private readonly ssh: string;
	private master: ChildProcess | null = null;
	private masterReady: Promise<boolean> | null = null;
	private controlPath: string | null = null;
	private readonly children = new Set<ChildProcess>();

	constructor(
		readonly endpoint: SshEndpoint,
		options: SshDialerOptions = {},
	) {
		this.multiplex = options.multiplex ?? process.env.STIGMER_SSH_MULTIPLEX !== '0';
		this.ssh = options.ssh ?? 'ssh';
	}

	/**
	 * A new engine connection, once the shared ssh connection is up (the first dial waits for the ssh
	 * handshake); bytes written before the remote command runs wait in ssh's stdin. ssh's failures arrive as
	 * the connection's error (SshDialError).
	 */
	async dial(): Promise<SshConnection> {
		const shared = this.multiplex ? await this.shared() : false;
		const spare = this.spare;
		this.spare = null;
		const child = spare && spare.exitCode === null && spare.signalCode === null ? spare : this.session(shared);
		// One session is kept started ahead, so the next dial skips ssh's and the remote docker's start-up
		// (the logs fast path's requests follow each other; the dashboard and the supervisor's API forward
		// dial all along). Idle, it holds nothing open (unref'd), and it ends with the rest.
		if (shared) {
			this.spare = this.session(true);
			unrefChild(this.spare);
		}
		const connection = new SshConnection(child, this.endpoint);
		connection.ref();
		return connection;
	}

	private spare: ChildProcess | null = null;

	private session(shared: boolean): ChildProcess {
		const options = shared ? ['-o', 'ControlMaster=no', '-o', `ControlPath=${this.controlPath}`] : ['-o', 'ControlMaster=no', '-o', 'ControlPath=none'];
		return this.spawn([...batchOptions, ...options, ...sshTarget(this.endpoint), ...remoteCommand]);
	}

	/**
	 * Starts the master once: an ssh whose own session is an idle dial-stdio (so it lives as long as our
	 * pipe to it), listening on a control socket in a private directory. True once that socket exists;
	 * false when the master failed (connections then dial on their own, and report ssh's error).
	 */
	private shared(): Promise<boolean> {
		this.masterReady ??= new Promise<boolean>((resolve) => {
			const dir = runtimeDir();
			try {
				mkdirSync(dir, { recursive: true, mode: 0o700 });
			} catch {
				return resolve(false);
			}
			this.controlPath = path.join(dir, `${process.pid}-${randomBytes(4).toString('hex')}`);
			const control = this.controlPath;
			const master = this.spawn([...batchOptions, '-o', 'ControlMaster=yes', '-o', `ControlPath=${control}`, '-o', 'ControlPersist=no', ...sshTarget(this.endpoint), ...remoteCommand]);
			this.master = master;
			master.stdout!.resume();
			master.stderr!.resume();
			// the master alone must not keep this process alive (commands end when their work is done); the
			// process's exit ends it (track())
			unrefChild(master);
			master.on('error', () => undefined);
			master.stdin!.on('error', () => undefined);
			let done = false;
			const finish = (ok: boolean) => {
				if (done) return;
				done = true;
				clearInterval(poll);
				resolve(ok);
			};
			// ssh makes the socket after authentication; nothing announces it, so look (bounded by ConnectTimeout)
			const started = Date.now();
			const poll = setInterval(() => {
				if (existsSync(control)) finish(true);
				else if (Date.now() - started > 35_000) finish(false);
			}, 5);
			master.once('exit', () => {
				finish(false);
				this.master = null;
				this.masterReady = null; // the next dial starts a new one
				rmSync(control, { force: true });
			});
		});
		return this.masterReady;
	}

	private spawn(args: string[]): ChildProcess {
		const child = track(spawn(this.ssh, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
		this.children.add(child);
		child.once('exit', () => this.children.delete(child));
		child.on('error', () => this.children.delete(child));
		return child;
	}

	/** Ends every ssh this dialer started (the master last). */
	close(): void {
		for (const child of this.children) if (child !== this.master) child.kill('SIGTERM');
		this.master?.kill('SIGTERM');
		this.master = null;
		this.spare = null;
		this.masterReady = null;
	}
}
