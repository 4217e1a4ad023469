// The UI is a static export (frontend/out) that the backend serves from the same origin as the
// API, so the browser needs no CORS and the session cookie is SameSite=Strict.
/** @type {import('next').NextConfig} */
const nextConfig = {
  output: 'export',
  trailingSlash: false,
  reactStrictMode: true,
  poweredByHeader: false,
  images: { unoptimized: true },
  // The API contract is TypeScript source in the backend workspace (types and a few constants).
  transpilePackages: ['@taskdock/backend'],
  // A dev server (`npm run dev -w frontend`) forwards /api to a running backend.
  ...(process.env.TASKDOCK_DEV_API
    ? {
        async rewrites() {
          return [
            { source: '/api/:path*', destination: `${process.env.TASKDOCK_DEV_API}/api/:path*` },
          ];
        },
      }
    : {}),
};

export default nextConfig;
