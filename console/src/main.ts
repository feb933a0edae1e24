import { createApp } from 'vue'
import 'element-plus/theme-chalk/el-message.css'
import 'element-plus/theme-chalk/el-message-box.css'
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { onUnauthorized } from './api'
import { forget } from './auth/session'
import { stopLive } from './live/stream'
import { unlockAudio } from './consultations/composables/alerts'

// Any 401: back to the login page, coming back here afterwards. Reply drafts are already kept in
// localStorage per escalation as they are typed, so they are restored after the login.
let redirecting = false
onUnauthorized(() => {
  if (redirecting) return
  redirecting = true
  stopLive()
  forget()
  const current = router.currentRoute.value
  if (current.name !== 'login') {
    ElMessage.warning('登录已过期，请重新登录，未发送的回复已为您保留。')
    void router
      .replace({ name: 'login', query: { redirect: current.fullPath } })
      .finally(() => (redirecting = false))
  } else {
    redirecting = false
  }
})

// Browsers let a page make sound only after a user gesture.
window.addEventListener('pointerdown', unlockAudio, { once: true, capture: true })
window.addEventListener('keydown', unlockAudio, { once: true, capture: true })

createApp(App).use(router).mount('#app')
