// Docker API version negotiation, as the docker CLI does it: speak the newest version both sides know,
// never a fixed one. The engine's range comes from its unversioned GET /version (`ApiVersion`, and
// `MinAPIVersion`, which Docker 29 raised to 1.44 and DOCKER_MIN_API_VERSION raises on any engine).
// No dependencies: the logs fast path negotiates with it without loading dockerode.

/** Oldest API stigmer speaks (Docker Engine 20.10, Podman 4): older engines lack what it uses. */
export const minApiVersion = '1.41';
/** Newest API stigmer was written against; newer engines are asked for this one (they all still speak it). */
export const maxApiVersion = '1.47';

export function compareApiVersions(a: string, b: string): number {
	const [a1 = 0, a2 = 0] = a.split('.').map(Number);
	const [b1 = 0, b2 = 0] = b.split('.').map(Number);
	return a1 - b1 || a2 - b2;
}

/** The fields of GET /version that negotiation reads. */
export interface EngineVersionRange {
	ApiVersion?: string;
	MinAPIVersion?: string;
}

export class ApiVersionError extends Error {
	constructor(readonly engineVersion: string) {
		super(`the engine speaks Docker API ${engineVersion}; stigmer needs ${minApiVersion} or later`);
		this.name = 'ApiVersionError';
	}
}

const versionPattern = /^\d+\.\d+$/;

/**
 * Whether /_ping's Api-Version header (the engine's max) does not settle the choice alone: for an engine
 * older than we support (GET /version, to say so), or newer than our max (its minimum may be above our
 * max: DockerApi asks with a versioned /_ping, and GET /version when that is refused). Within our range
 * the engine's own max is spoken, which its minimum never exceeds.
 */
export function needsVersionRange(engineMax: string): boolean {
	return !versionPattern.test(engineMax) || compareApiVersions(engineMax, minApiVersion) < 0 || compareApiVersions(engineMax, maxApiVersion) > 0;
}

/**
 * Whether the engine speaks more than we do (/_ping's Api-Version above our max): then a versioned
 * `/v<our max>/_ping` tells whether it still accepts our max (Docker refuses a version below its
 * minimum), which is all the choice needs; GET /version only when that is refused.
 */
export function newerThanMax(engineMax: string): boolean {
	return versionPattern.test(engineMax) && compareApiVersions(engineMax, maxApiVersion) > 0;
}

/**
 * min(our max, the engine's max), raised to the engine's minimum when the engine no longer speaks our
 * max (an engine newer than stigmer: its oldest version is then the nearest to what stigmer knows).
 * Throws ApiVersionError for an engine older than `minApiVersion`.
 */
export function chooseApiVersion(engine: EngineVersionRange): string {
	const engineMax = engine.ApiVersion ?? '';
	if (!versionPattern.test(engineMax) || compareApiVersions(engineMax, minApiVersion) < 0) throw new ApiVersionError(engineMax || 'unknown');
	let chosen = compareApiVersions(engineMax, maxApiVersion) > 0 ? maxApiVersion : engineMax;
	const engineMin = engine.MinAPIVersion;
	if (engineMin && versionPattern.test(engineMin) && compareApiVersions(chosen, engineMin) < 0) chosen = engineMin;
	return chosen;
}
