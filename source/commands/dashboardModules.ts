// Everything `stigmer dashboard` loads once its checks pass: React, Ink, the UI, the backends. In a
// build, scripts/bundleDashboard.mjs makes this module and all it imports one minified file,
// dist/dashboard.bundle.js, with React's production build (measured: docs/architecture.md, "Memory").
export { createRealBackend } from '../dashboard/RealBackend.js';
export { runDashboard } from '../ui/runDashboard.js';
