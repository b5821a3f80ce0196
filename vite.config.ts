import { reactRouter } from '@react-router/dev/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [reactRouter()],
  // The map is imported lazily, so the development server would otherwise find Leaflet only
  // on the first tracking page and reload that page mid-visit.
  optimizeDeps: { include: ['leaflet', 'react-leaflet'] },
  resolve: {
    alias: { '~': new URL('./app', import.meta.url).pathname },
  },
  server: {
    // The portal's Express server owns the port; Vite runs as middleware only.
    hmr: process.env.NODE_ENV === 'test' ? false : undefined,
  },
});
