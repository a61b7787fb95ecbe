import { createActionIO } from './io.js'
import { run } from './main.js'
import { runPost } from './post.js'

// One bundle for both phases, as actions/checkout does: main saves isPost, the post phase sees it.
const io = createActionIO()
await (io.state.get('isPost') === 'true' ? runPost(io) : run(io))
