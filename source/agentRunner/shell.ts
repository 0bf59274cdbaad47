// An interactive shell (or one command) in the agent-runner container, through the engine's exec
// API: `stigmer shell` and the dashboard's `e` key. It borrows the terminal (raw mode, stdin,
// resize events) only while attached and gives everything back on every path; it installs no
// process signal handlers (Ctrl-C in raw mode is a byte for the shell, not a signal for us).
import type { Duplex, Readable, Writable } from 'node:stream';
import type { Exec } from 'dockerode';
import { notRunningMessage } from '../api/AgentRunnerClient.js';
import { containerPaths, exitCodes, labels, serviceUser } from '../contract.js';
import { UserError } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { type DockerApi, engineMessage, engineStatus, orNull } from '../engine/DockerApi.js';

/** bash when the image has it, else sh. */
export const defaultShellCommand = ['/bin/sh', '-c', 'if command -v bash >/dev/null; then exec bash; else exec sh; fi'];

type InputStream = Readable & { isTTY?: boolean; isRaw?: boolean; setRawMode?: (mode: boolean) => unknown };
type OutputStream = Writable & { isTTY?: boolean; columns?: number; rows?: number };

export interface ShellOptions {
	api: DockerApi;
	/** the container to exec in; else the agent-runner container of `home` */
	containerId?: string;
	home?: StigmerHome;
	/** argv; default: an interactive bash, else sh */
	command?: string[];
	stdin: InputStream;
	stdout: OutputStream;
	stderr: Writable;
	/** TERM inside the container (default: the host's, else xterm-256color on a TTY) */
	term?: string;
}

interface ContainerInspect {
	Id: string;
	Config?: { Labels?: Record<string, string> | null };
	State?: { Running?: boolean; Status?: string };
}

export class ContainerNotRunningError extends UserError {
	constructor(detail?: string) {
		super(notRunningMessage, exitCodes.failure, detail);
		this.name = 'ContainerNotRunningError';
	}
}

/** The running agent-runner container of a home (by its name, checked against the home label). */
export async function findAgentRunnerContainer(api: DockerApi, home: StigmerHome): Promise<string> {
	const found = (await orNull(api.docker.getContainer(home.containerName).inspect())) as ContainerInspect | null;
	if (!found) throw new ContainerNotRunningError(`no container ${home.containerName}`);
	const owner = found.Config?.Labels?.[labels.home];
	if (owner !== undefined && owner !== home.hash) throw new UserError(`container ${home.containerName} belongs to another stigmer home (label ${labels.home}=${owner})`);
	if (!found.State?.Running) throw new ContainerNotRunningError(`container ${home.containerName} is ${found.State?.Status ?? 'not running'}`);
	return found.Id;
}

/** Runs the shell or command attached to the given streams; resolves with its exit code. */
export async function runShell(options: ShellOptions): Promise<number> {
	const session = await openShellSession({ ...options, tty: options.stdin.isTTY === true });
	return session.attach(options);
}

type AttachStreams = Pick<ShellOptions, 'stdin' | 'stdout' | 'stderr'> & { typed?: string; keepRaw?: boolean };

/**
 * An exec created and started in the container but not yet given the terminal: the dashboard opens it
 * while its own screen still holds the keyboard, then hands the terminal over in one synchronous step.
 */
export interface ShellSession {
	/**
	 * Takes the terminal (raw mode is set before this returns its promise, so no key falls between the
	 * dashboard and the shell), writes `typed` (keys typed while the session was being opened) to the
	 * shell first, and resolves with the exit code once the shell ends. `keepRaw`: the caller takes the
	 * terminal back at once (the dashboard), so raw mode stays on after the shell ends — a key typed in
	 * between is neither echoed nor turned into a signal (Ctrl-C would end the dashboard).
	 */
	attach(streams: AttachStreams): Promise<number>;
	/**
	 * As `attach`, but resolves as soon as the shell's output has ended and the terminal is given back,
	 * with its exit code to come: the engine records it a moment later (an inspect round trip, polled),
	 * and the dashboard need not wait for it to take its screen back.
	 */
	attachTerminal(streams: AttachStreams): Promise<{ exitCode: Promise<number> }>;
	/** Ends an exec that was never attached (the user cancelled). */
	close(): void;
}

/** Creates and starts the exec (the shell's process runs from here on); `tty` as the terminal's. */
export async function openShellSession(options: Omit<ShellOptions, 'stdin' | 'stdout' | 'stderr'> & { tty: boolean }): Promise<ShellSession> {
	const { api, tty } = options;
	// the dashboard's client may not have reached the engine yet: negotiate now (exit 3 when unreachable)
	await api.ready();
	let containerId = options.containerId;
	if (!containerId) {
		if (!options.home) throw new Error('runShell needs a containerId or a home');
		containerId = await findAgentRunnerContainer(api, options.home);
	}
	const term = options.term ?? process.env.TERM ?? (tty ? 'xterm-256color' : undefined);
	let exec: Exec;
	try {
		exec = await api.docker.getContainer(containerId).exec({
			AttachStdin: true,
			AttachStdout: true,
			AttachStderr: true,
			Tty: tty,
			Cmd: options.command && options.command.length > 0 ? options.command : defaultShellCommand,
			WorkingDir: containerPaths.workspace,
			// as the service, not as the container's root launcher
			User: `${serviceUser().uid}:${serviceUser().gid}`,
			Env: term ? [`TERM=${term}`] : [],
		});
	} catch (error) {
		// 409: the container is stopped or paused; 404: it went away since we looked.
		const status = engineStatus(error);
		if (status === 409 || status === 404) throw new ContainerNotRunningError(engineMessage(error));
		throw error;
	}
	// hijacked: the raw connection after `101 UPGRADED`, stdin included (docker-modem puts back any bytes read with the headers)
	const socket = (await exec.start({ hijack: true, stdin: true, Detach: false, Tty: tty })) as Duplex;
	// output that comes before attach (a prompt) waits in the socket: nothing reads it yet. A write side
	// that ends early (stdin closed) must not end our reading.
	socket.on('error', () => undefined);
	const attachTerminal = async ({ stdin, stdout, stderr, typed, keepRaw }: AttachStreams): Promise<{ exitCode: Promise<number> }> => {
		const restore: Array<() => void> = [];
		attachInput(stdin, socket, tty, restore, typed, keepRaw);
		try {
			let sized: Promise<void> = Promise.resolve();
			if (tty && stdout.isTTY) {
				const resize = () => void resizeExec(exec, stdout);
				stdout.on('resize', resize);
				restore.push(() => stdout.off('resize', resize));
				// beside the output, not before it: the prompt need not wait for the engine's answer
				sized = resizeExec(exec, stdout, 5);
			}
			await pumpOutput(api, socket, tty, stdout, stderr);
			await sized;
		} finally {
			for (const undo of restore.reverse()) {
				try {
					undo();
				} catch {
					// keep restoring the rest
				}
			}
			socket.destroy();
		}
		const exitCode = exitCodeOf(exec);
		// handled here too: it may settle before its caller awaits it (the dashboard redraws first)
		exitCode.catch(() => undefined);
		return { exitCode };
	};
	return {
		close: () => socket.destroy(),
		attachTerminal,
		attach: async (streams) => (await attachTerminal(streams)).exitCode,
	};
}

/** Forwards stdin to the exec, `typed` first; raw mode on a TTY. Everything is undone by `restore`. */
function attachInput(stdin: InputStream, socket: Duplex, tty: boolean, restore: Array<() => void>, typed = '', keepRaw = false): void {
	if (tty && typeof stdin.setRawMode === 'function') {
		const wasRaw = stdin.isRaw === true;
		stdin.setRawMode(true);
		if (!keepRaw) restore.push(() => stdin.setRawMode!(wasRaw));
	}
	if (typed && !socket.destroyed && socket.writable) socket.write(typed);
	const wasFlowing = stdin.readableFlowing === true;
	const onData = (chunk: Buffer | string) => {
		if (!socket.destroyed && socket.writable) socket.write(chunk);
	};
	// Without a TTY, the end of our input is the end of the command's input (`echo x | stigmer shell -- cat`).
	const onEnd = () => {
		if (!socket.destroyed && socket.writable) socket.end();
	};
	stdin.on('data', onData);
	stdin.on('end', onEnd);
	stdin.resume();
	restore.push(() => {
		stdin.off('data', onData);
		stdin.off('end', onEnd);
		if (!wasFlowing) stdin.pause();
	});
	if (stdin.readableEnded) onEnd();
}

async function pumpOutput(api: DockerApi, socket: Duplex, tty: boolean, stdout: Writable, stderr: Writable): Promise<void> {
	if (!tty) {
		// 8-byte frame headers tell stdout from stderr
		const ended = new Promise<void>((resolve) => {
			socket.once('end', resolve);
			socket.once('close', resolve);
		});
		api.docker.modem.demuxStream(socket, stdout, stderr);
		await ended;
		return;
	}
	async function* chunks(): AsyncGenerator<Buffer> {
		try {
			for await (const chunk of socket as AsyncIterable<Buffer>) yield chunk;
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code !== 'ECONNRESET' && code !== 'EPIPE' && code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
		}
	}
	for await (const chunk of chunks()) await write(stdout, chunk);
}

function write(stream: Writable, chunk: Buffer): Promise<void> | void {
	if (stream.write(chunk)) return;
	return new Promise((resolve) => {
		const done = () => {
			stream.off('drain', done);
			stream.off('close', done);
			stream.off('error', done);
			resolve();
		};
		stream.once('drain', done);
		stream.once('close', done);
		stream.once('error', done);
	});
}

async function resizeExec(exec: Exec, stdout: OutputStream, attempts = 1): Promise<void> {
	const w = stdout.columns;
	const h = stdout.rows;
	if (!w || !h) return;
	for (let i = 0; i < attempts; i++) {
		try {
			await exec.resize({ h, w });
			return;
		} catch {
			// the exec may not run yet (retry) or has ended (nothing to resize)
			await new Promise((r) => setTimeout(r, 20));
		}
	}
}

/** The exec's exit code; the engine may need a moment after the stream closes to record it. */
async function exitCodeOf(exec: Exec): Promise<number> {
	const deadline = Date.now() + 3000;
	for (;;) {
		const info = await orNull(exec.inspect());
		if (!info) throw new ContainerNotRunningError('the container went away during the session');
		if (!info.Running && info.ExitCode !== null) return info.ExitCode;
		if (Date.now() > deadline) {
			if (info.Running) return exitCodes.failure;
			throw new UserError('the session ended but the engine reported no exit code (the container probably stopped)');
		}
		await new Promise((r) => setTimeout(r, 25));
	}
}
