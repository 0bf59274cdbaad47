// An engine's refusal (an error answer of the Docker API: Docker, Podman, Colima, …) turned into an
// error the user can act on: what the engine said, and the fix when the refusal is a known one.
// Engine errors are recognised by their HTTP status (`statusCode`), as our client and dockerode both
// report them, so this works whichever client made the request.
import { exitCodes } from '../contract.js';
import { UserError } from '../errors.js';
import { engineMessage, engineStatus } from './engineErrors.js';

interface KnownRefusal {
	/** matched against the engine's message */
	pattern: RegExp;
	/** what went wrong, in the user's terms */
	what: string;
	fix: string;
}

/** Refusals met on real engines, with their fix. The first match wins. */
export const knownRefusals: readonly KnownRefusal[] = [
	{
		pattern: /container-init binary not found|catatonit/i,
		what: 'the engine cannot run a container with --init: Podman needs catatonit for it',
		fix: 'install it: sudo apt-get install catatonit (Debian/Ubuntu) or sudo dnf install catatonit (Fedora), then run the command again',
	},
	{
		pattern: /error setting rlimit|setrlimit/i,
		what: "the engine may not set the container's resource limits (rlimits) here",
		fix: 'give containers limits the host allows: in /etc/containers/containers.conf (Podman) put [containers] default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"], or run the engine where it may raise rlimits',
	},
	{
		pattern: /client version [\d.]+ is too old|minimum supported API version/i,
		what: 'the engine refuses this API version',
		fix: "upgrade stigmer, or lower the engine's floor (DOCKER_MIN_API_VERSION in dockerd's environment)",
	},
	{
		pattern: /Range of CPUs is from/i,
		what: 'the engine has fewer CPUs than agentRunner.cpus asks for',
		fix: 'set agentRunner.cpus in config.yaml to at most the CPUs the engine has (docker info: CPUs)',
	},
	{
		pattern: /no space left on device/i,
		what: "the engine's disk is full",
		fix: 'free space: docker system prune (or podman system prune), or delete old images',
	},
	{
		pattern: /port is already allocated|address already in use/i,
		what: "the agent-runner's port is taken",
		fix: 'stop the program holding it (`stigmer doctor` shows which), or set agentRunner.port in config.yaml',
	},
	{
		pattern: /cgroup.*(rootless|not supported|permission denied)|rootless.*cgroup|memory limit.*not supported|kernel does not support (memory|cpu)/i,
		what: "the engine cannot apply the container's memory/CPU limits on this host (rootless engines need cgroup v2 with delegated controllers)",
		fix: 'run a rootful engine, or enable cgroup v2 delegation (systemd: Delegate=yes for user@.service); see `stigmer doctor`',
	},
	{
		pattern: /(OCI runtime|runtime) .*(not found|executable file not found)|crun: .*not found|runc: .*not found/i,
		what: "the engine's container runtime is missing",
		fix: 'install the runtime the engine is configured for (Debian: sudo apt-get install runc, or crun for Podman)',
	},
];

/** `{statusCode, message}` of an engine error answer, or null when `error` is not one. */
function engineAnswer(error: unknown): { statusCode: number; message: string } | null {
	if (!(error instanceof Error)) return null;
	const statusCode = engineStatus(error);
	if (statusCode === undefined || statusCode < 400) return null;
	return { statusCode, message: engineMessage(error) };
}

/**
 * A UserError for an engine's refusal: the engine's words, with the fix for a known refusal, else a
 * pointer to `stigmer doctor`. Null when `error` is not an engine answer (a real bug stays one).
 */
export function engineRefusal(error: unknown): UserError | null {
	if (error instanceof UserError) return null;
	const answer = engineAnswer(error);
	if (!answer) return null;
	const known = knownRefusals.find((k) => k.pattern.test(answer.message));
	if (known) return new UserError(`${known.what} (the container engine said: ${answer.message})`, exitCodes.failure, `fix: ${known.fix}`);
	return new UserError(
		`the container engine refused the request: ${answer.message} (HTTP ${answer.statusCode})`,
		exitCodes.failure,
		'`stigmer doctor` checks the engine and prints the fix for each problem it finds',
	);
}

/** One line for the dashboard's status line: the refusal and its fix. */
export function engineRefusalText(error: unknown): string | null {
	const refusal = engineRefusal(error);
	return refusal ? `${refusal.message}${refusal.hint ? ` — ${refusal.hint}` : ''}` : null;
}
