// The family app's entry: renders the app and registers the service worker that caches the
// app shell (vite-plugin-pwa), so that after one visit the app opens with no network.
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { registerSW } from 'virtual:pwa-register'
import { App } from './App'
import './style.css'

registerSW({ immediate: true })
createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>)
