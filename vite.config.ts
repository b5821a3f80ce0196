import { reactRouter } from '@react-router/dev/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [reactRouter()],
  resolve: {
    alias: { '~': new URL('./app', import.meta.url).pathname },
  },
  server: {
    // The portal's Express server owns the port; Vite runs as middleware only.
    hmr: process.env.NODE_ENV === 'test' ? false : undefined,
  },
});
