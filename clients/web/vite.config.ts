// The family app's build: React, and a service worker (Workbox, through vite-plugin-pwa) that
// caches the app shell so the app opens with no network after one visit. The trip's data is
// kept by y-indexeddb, not by the service worker.
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { VitePWA } from 'vite-plugin-pwa'

export default defineConfig({
  build: { outDir: 'dist/app', emptyOutDir: true },
  plugins: [
    react(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      includeAssets: ['icon.svg'],
      manifest: {
        name: 'Caravan: plan trips together',
        short_name: 'Caravan',
        description: 'Families plan trips together, online or not.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#fffaf3',
        theme_color: '#d9481b',
        icons: [
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any maskable' }
        ]
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        // The first visit is served offline from then on, without a second load.
        clientsClaim: true,
        skipWaiting: true,
        navigateFallback: '/index.html',
        // The server's own paths are never answered from the cache.
        navigateFallbackDenylist: [/^\/api\//, /^\/sync\//, /^\/metrics/, /^\/healthz/]
      }
    })
  ],
  server: {
    proxy: {
      '/sync': { target: 'ws://127.0.0.1:8080', ws: true },
      '/api': 'http://127.0.0.1:8080'
    }
  }
})
