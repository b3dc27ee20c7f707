from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.db.models import Model

from adplatform.accounts.models import User

M = TypeVar("M", bound=Model)


class ModelFactory(factory.django.DjangoModelFactory[M]):
    """The base of every app's factories: ``GameFactory()`` is typed as the ``Game`` it returns.

    factory_boy builds the instance in its metaclass's ``__call__``, which mypy does not follow; this ``__new__``,
    seen by mypy only, says what that call returns.
    """

    class Meta:
        abstract = True

    if TYPE_CHECKING:

        def __new__(cls, *args: Any, **kwargs: Any) -> M: ...  # type: ignore[misc]  # a model, not a factory


class UserFactory(ModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = User.Role.OWNER
    is_active = True
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()
