import { createApp } from 'vue'
import '@/api/auth'
import { session } from '@/http/session'
import './app.css'

const App = createApp({
  onLaunch() {
    // Silent login at launch; a failure is retried by the first call that needs the token.
    session.login().catch(() => undefined)
  },
})

export default App
