from prometeo.web.serve import serve

from feature_store.settings import get_settings

serve("feature_store.main:app", "feature-store", get_settings())
