import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// The operator console: built into dist/console and served by `mamori serve` at /console/.
// `npx vite web` serves it for development, with the API of a local `mamori serve` behind /v1.
export default defineConfig({
  root: import.meta.dirname,
  base: "/console/",
  plugins: [preact()],
  build: { outDir: "../dist/console", emptyOutDir: true, chunkSizeWarningLimit: 400 },
  server: { proxy: { "/v1": "http://127.0.0.1:8080", "/health": "http://127.0.0.1:8080" } },
});
