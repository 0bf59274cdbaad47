// Podman names images fully qualified where Docker keeps the name as it was given: a container created
// from `stigmer/agent-runner:0.1.0` reads `docker.io/stigmer/agent-runner:0.1.0` in its inspection, and a
// loaded or locally built image `localhost/…`. Rows show the name as the user wrote it, on every engine.

/** The image name without the registry Podman adds (`docker.io/`, `docker.io/library/`, `localhost/`). */
export function unqualifiedImage(image: string): string {
	return image.replace(/^(?:docker\.io\/library\/|docker\.io\/|localhost\/)/, '');
}
