// What GET /_ping's headers tell about the engine: `Api-Version` and `Server` ("Docker/28.5.2 (linux)",
// "Libpod/4.3.1 (linux)"), enough to negotiate. GET /version costs Podman 0.3 s and more (it runs
// `conmon --version` and the OCI runtime's `--version` on every call: most of the 0.46 s `server status`
// took on Podman 4.3, and over 3 s on a loaded machine, where our connect timeout then called the engine
// unreachable); Docker 28.5 takes 20–100 ms (it asks containerd and runc for their versions), Docker
// 20.10 about 10 ms, against a millisecond for /_ping. An engine newer than stigmer is asked with a
// versioned /_ping whether it still speaks our newest version. /_ping lacks the architecture (and
// Podman's the OS): `stigmer doctor`, which prints them, asks /version.
import type { EngineInfo } from './DockerApi.js';
import type { RawHeaders } from './rawHttp.js';

/** The engine as /_ping's headers name it, or null when they lack the API version or the server's name. */
export function engineInfoFromPing(headers: RawHeaders, endpoint: string): EngineInfo | null {
	const apiVersion = headers['api-version'];
	const server = /^(Docker|Libpod)\/(\S+)/.exec(String(headers.server ?? ''));
	if (typeof apiVersion !== 'string' || !/^\d+\.\d+$/.test(apiVersion) || !server) return null;
	return {
		endpoint,
		version: server[2]!,
		apiVersion,
		os: typeof headers.ostype === 'string' ? headers.ostype : '',
		arch: '',
		platform: server[1] === 'Libpod' ? 'Podman Engine' : 'Docker Engine',
	};
}

/**
 * Whether the engine is Podman: the one place stigmer (and its tests: test/helpers/engineKind.ts) tells
 * the engine's kind, for what Podman does differently (no `oom` events, no health check start interval,
 * its own gateway name).
 */
export const isPodman = (info: EngineInfo | null | undefined): boolean => info?.platform === 'Podman Engine';

/**
 * The engine's name in a GET /version answer. Podman's `Platform.Name` is its OS ("linux/amd64/debian-12"),
 * so it is told by its components ("Podman Engine"), as `docker version` shows them.
 */
export function platformOfVersion(version: { Platform?: { Name?: string }; Components?: Array<{ Name?: string }> }): string {
	if ((version.Components ?? []).some((c) => /podman/i.test(c.Name ?? ''))) return 'Podman Engine';
	return version.Platform?.Name || 'Docker Engine';
}
