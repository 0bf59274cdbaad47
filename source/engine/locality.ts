// Whether the container engine shares this machine's file system and loopback (docs/architecture.md,
// "Remote engines"). Decided by the endpoint, not by a probe: a probe that checks for a shared file
// system costs a container start (or a volume and an exec) on every command, and the answer follows
// from the endpoint anyway. A unix socket is local: Docker Desktop, Colima, OrbStack and Podman machine
// are unix sockets too, and their VMs share the user's home directory with this machine, which is what
// the bind mounts need. Every other endpoint (tcp, ssh) is remote. STIGMER_ENGINE_REMOTE=1|0 overrides
// the choice: for a tcp engine on this very machine, for a unix socket forwarded from elsewhere
// (`ssh -L`), and in CI, which runs the remote-mode tests against the local engine.
import { UsageError } from '../errors.js';
import type { Endpoint } from './endpoint.js';

export const engineRemoteEnv = 'STIGMER_ENGINE_REMOTE';

export function engineIsRemote(endpoint: Pick<Endpoint, 'kind'>, env: NodeJS.ProcessEnv = process.env): boolean {
	const forced = env[engineRemoteEnv];
	if (forced === '1') return true;
	if (forced === '0') return false;
	if (forced !== undefined && forced !== '') throw new UsageError(`${engineRemoteEnv} must be 1 (remote) or 0 (local), not "${forced}"`);
	return endpoint.kind !== 'unix';
}
