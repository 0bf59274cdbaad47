// The engine the tests run against (DOCKER_HOST, as the CLI resolves it), told as the product tells it:
// DockerApi's negotiation names the engine, and isPodman, engineSendsNoOom and engineHasStartInterval
// decide what differs. Tests never parse `docker version` themselves (the first Podman check read
// Platform.Name, which is Podman's OS, and ran a Docker-only step on Podman).
import { engineHasStartInterval } from '../../source/agentRunner/ContainerService.ts';
import { engineSendsNoOom } from '../../source/agentRunner/oomEvents.ts';
import { DockerApi, type EngineInfo } from '../../source/engine/DockerApi.ts';
import { isPodman } from '../../source/engine/enginePing.ts';

export interface EngineKind {
	info: EngineInfo;
	podman: boolean;
	/** no `oom` event ever comes: a die by SIGKILL is how an OOM kill of the main process shows */
	sendsNoOom: boolean;
	/** the container's health check runs Docker 25+'s start interval */
	hasStartInterval: boolean;
}

let asked: Promise<EngineKind> | null = null;

/** The test engine's kind, asked once per test process. */
export function engineKind(): Promise<EngineKind> {
	asked ??= (async () => {
		const api = await DockerApi.connect(process.env, 20_000);
		try {
			const podman = isPodman(api.info);
			return { info: api.info!, podman, sendsNoOom: engineSendsNoOom(api), hasStartInterval: engineHasStartInterval(api.apiVersion, podman) };
		} finally {
			api.close();
		}
	})();
	return asked;
}
