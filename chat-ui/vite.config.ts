/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The `aos` server serves `dist/` at `/` and the API on the same origin; in
// development Vite proxies the API and the chat WebSocket to a local `aos`.
const backend = process.env.AOS_BACKEND ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // Keep the budget visible: the whole app is one small chunk (< 250 KB gzipped).
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": { target: backend, changeOrigin: false },
      "/ws": { target: backend, ws: true, changeOrigin: false },
      "/healthz": { target: backend },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
