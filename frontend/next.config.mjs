// The UI is a static export (frontend/out) that the backend serves from the same origin as the
// API, so the browser needs no CORS and the session cookie is SameSite=Strict.
// (A `next dev` server on another port cannot call the API with that cookie: the backend takes
// it only from its own origin. Work on the UI with `npm run build:frontend` + `npm run serve`.)
/** @type {import('next').NextConfig} */
const nextConfig = {
  output: 'export',
  trailingSlash: false,
  reactStrictMode: true,
  poweredByHeader: false,
  images: { unoptimized: true },
  // The API contract is TypeScript source in the shared workspace (types and a few constants).
  transpilePackages: ['@taskdock/shared'],
};

export default nextConfig;
