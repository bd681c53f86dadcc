from prometeo.web.serve import serve

from next_best_action.settings import get_settings

serve("next_best_action.main:app", "next-best-action", get_settings())
