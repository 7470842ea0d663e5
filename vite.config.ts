// Builds the renderer (renderer/) into dist-renderer/, loaded by Electron from app://pli/ and, in
// the end-to-end tests only, served by the test bridge. Relative asset URLs work under both.
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'renderer',
  base: './',
  publicDir: false,
  esbuild: { jsx: 'automatic', jsxImportSource: 'react' },
  build: {
    outDir: '../dist-renderer',
    emptyOutDir: true,
    target: 'chrome120',
    // No inline scripts or data: modules: the CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    rollupOptions: {
      // zod's sources carry comments Rollup cannot place; harmless, and noise in every build.
      onwarn(warning, warn) {
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules/zod')) return;
        warn(warning);
      },
    },
  },
});
